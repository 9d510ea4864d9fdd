package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// TestWALIsCutBackWhenItStartsOver grows the write-ahead log well past the
// limit while a reader's snapshot keeps it from starting over, then lets
// it start over: its file must shrink to the limit, not keep its largest
// size for the life of the process.
func TestWALIsCutBackWhenItStartsOver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int64
		cutBack bool
	}{
		{"limited", 256 << 10, true},
		{"unlimited", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "sety.db")
			db, err := Open(ctx, path, &Options{Synchronous: "NORMAL", WALSizeLimit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			createOrgs := func(from, n int) {
				t.Helper()
				for i := from; i < from+n; i++ {
					id := fmt.Sprintf("org_walsize%09d", i)
					org := &auth.Organization{ID: id, Name: id, Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(testStart)}
					if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
						t.Fatal(err)
					}
				}
			}

			// A reader holding a snapshot: no checkpoint can finish, so the
			// log cannot start over and every commit lengthens it.
			reader, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()
			snapshot, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := snapshot.QueryRowContext(ctx, `SELECT count(*) FROM organizations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			createOrgs(0, 300)
			grown := walSize(t, path)
			if grown < 4*(256<<10) {
				t.Fatalf("the log grew to %d bytes only; the test needs it well past the limit", grown)
			}

			// The reader lets go; a complete checkpoint; the next commit
			// starts the log over.
			if err := snapshot.Rollback(); err != nil {
				t.Fatal(err)
			}
			// The store's own readers and checkpointer run beside the test
			// (the checkpointer every 100 ms): one of them may hold an older
			// snapshot, or the checkpoint lock, for a moment, so the test
			// checkpoints until every frame is copied.
			var busy, logFrames, done int
			for try := 0; ; try++ {
				if err := reader.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
					t.Fatal(err)
				}
				if busy == 0 && done == logFrames {
					break
				}
				if try == 500 {
					t.Fatalf("checkpoint: busy %d, %d of %d frames copied after %d tries", busy, done, logFrames, try+1)
				}
				time.Sleep(10 * time.Millisecond)
			}
			createOrgs(300, 1)
			after := walSize(t, path)
			t.Logf("the log's file: %d bytes grown, %d after it started over", grown, after)
			switch {
			case tc.cutBack && after > tc.limit:
				t.Errorf("the log's file is %d bytes after it started over (it had grown to %d); want at most the limit %d", after, grown, tc.limit)
			case !tc.cutBack && after != grown:
				t.Errorf("with no limit the log's file went from %d to %d bytes; SQLite keeps it (is the limit applied anyway?)", grown, after)
			}
		})
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
