package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
// owner only (the database holds key hashes and sealed secrets), written,
// and synced to disk before Backup returns. On failure nothing is left at
// path.
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

// backup copies the database that dsn opens to path.
func backup(ctx context.Context, dsn, path string) (err error) {
	// Claim the name first, atomically: VACUUM INTO writes into an empty
	// file, and a file that another process creates meanwhile is never
	// ours to remove.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	}
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	// Its own connection: the read pool is query_only, which refuses to
	// write even another file, and the writer must stay free for writes.
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, translate(err))
	}
	return syncFile(path)
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
