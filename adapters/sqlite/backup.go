package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrBackupExists is what Backup returns when its target already exists:
// a backup never overwrites a file.
var ErrBackupExists = errors.New("sqlite: the backup file already exists")

// Backup writes a consistent copy of the database to path while it stays
// in use, with SQLite's VACUUM INTO: the copy is read in one read
// transaction, so it holds every transaction committed before the backup
// began and no part of any later one, and writers (of this process or
// another) go on meanwhile. The copy is a complete, compacted database
// file, readable by Open (which sets WAL on it again) and by any SQLite.
//
// path must not exist (ErrBackupExists); it is created readable by its
// owner only (the database holds key hashes and sealed secrets), and
// appears only once the copy is complete and synced to disk. On failure
// nothing is left at path.
func (db *DB) Backup(ctx context.Context, path string) error {
	return backup(ctx, db.dsn, path)
}

// BackupFile is [DB.Backup] of the database at from, which this process
// need not have open: it connects to the file for the copy alone, and
// neither creates nor migrates it (a backup of a database that servers of
// an older release use leaves it as they expect it).
func BackupFile(ctx context.Context, from, path string) error {
	if err := checkPath(from); err != nil {
		return err
	}
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("sqlite: backup: no database: %w", err)
	}
	return backup(ctx, "file:"+from+"?mode=rw&_pragma=busy_timeout(5000)", path)
}

// backup copies the database that dsn opens to path. The copy is written
// under a temporary name beside path and linked to path only once it is
// complete and synced: a backup killed half way (SIGKILL, a power cut)
// leaves a *.partial-* file, never a truncated file under the name asked
// for.
func backup(ctx context.Context, dsn, path string) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	}
	// VACUUM INTO writes into an empty file; this one is ours alone.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".partial-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	partial := f.Name()
	f.Close()
	defer os.Remove(partial)
	// Its own connection: the read pool is query_only, which refuses to
	// write even another file, and the writer must stay free for writes.
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, partial); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, translate(err))
	}
	if err := syncFile(partial); err != nil {
		return err
	}
	// A link, unlike a rename, never replaces a file that appeared
	// meanwhile.
	if err := os.Link(partial, path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	} else if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncFile flushes path's contents to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sqlite: backup: sync %s: %w", path, err)
	}
	return f.Close()
}

// syncDir flushes a directory's entries, so a new name in it survives a
// power cut, where the system can (not on Windows, whose directories do
// not open for it: there the attempt fails, harmlessly).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
