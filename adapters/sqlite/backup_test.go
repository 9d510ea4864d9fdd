package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// A backup taken while writers commit holds every write committed before
// it began, opens as a database, and never overwrites a file.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "sety.db"))
	var (
		mu       sync.Mutex
		acked    []string
		n        atomic.Int64
		stop     = make(chan struct{})
		underway = make(chan struct{}) // closed at the 50th write
		once     sync.Once
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("org_%04d%012d", w, n.Add(1))
				err := db.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: id, Name: id, Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(time.Now())})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				if len(acked) == 50 {
					once.Do(func() { close(underway) })
				}
				mu.Unlock()
			}
		})
	}
	<-underway
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(dir, "backup.db")
	err := db.Backup(ctx, backup)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(backup); err != nil || info.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Fatalf("backup file: %v %v, want readable by its owner only", info, err)
	}
	restored := open(t, backup)
	for _, id := range before {
		if _, err := restored.AuthStore().GetOrganization(ctx, id); err != nil {
			t.Fatalf("organization %s, committed before the backup, is not in it: %v", id, err)
		}
	}
	if got, _ := restored.AuthStore().CountOrganizations(ctx); got < len(before) {
		t.Fatalf("the backup holds %d organizations, fewer than the %d committed before it", got, len(before))
	}

	// A second backup to the same file is refused, and leaves it as it was.
	stat, _ := os.Stat(backup)
	if err := db.Backup(ctx, backup); !errors.Is(err, sqlite.ErrBackupExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if again, _ := os.Stat(backup); again.Size() != stat.Size() || !again.ModTime().Equal(stat.ModTime()) {
		t.Fatal("a refused backup changed the existing file")
	}
	// A backup that fails leaves nothing behind.
	if err := db.Backup(ctx, filepath.Join(dir, "missing", "backup.db")); err == nil {
		t.Fatal("a backup into a missing directory succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Backup(cancelled, filepath.Join(dir, "cancelled.db")); err == nil {
		t.Fatal("a cancelled backup succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "cancelled.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed backup left its file: %v", err)
	}
	if partial, _ := filepath.Glob(filepath.Join(dir, "*.partial-*")); len(partial) != 0 {
		t.Fatalf("backups left their partial copies: %v", partial)
	}

	// BackupFile copies a database by its path, beside the handle that
	// has it open; a missing database is refused, and neither it nor the
	// target is created.
	byPath := filepath.Join(dir, "by-path.db")
	if err := sqlite.BackupFile(ctx, db.path, byPath); err != nil {
		t.Fatal(err)
	}
	if got, _ := open(t, byPath).AuthStore().CountOrganizations(ctx); got < len(before) {
		t.Fatalf("the backup by path holds %d organizations, want at least %d", got, len(before))
	}
	missing, target := filepath.Join(dir, "missing.db"), filepath.Join(dir, "of-missing.db")
	if err := sqlite.BackupFile(ctx, missing, target); err == nil {
		t.Fatal("a backup of a missing database succeeded")
	}
	for _, p := range []string{missing, target} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: %v, want no file", p, err)
		}
	}
}
