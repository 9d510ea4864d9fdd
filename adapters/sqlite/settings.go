package sqlite

import (
	"context"
	"crypto/rand"
)

// firstKey returns the key stored as the setting name, storing 32 fresh
// random bytes first if there is none: every process on the file gets the
// first key ever committed. The access code key and the webhook secret
// key are kept so.
func (db *DB) firstKey(ctx context.Context, name string) ([]byte, error) {
	var key []byte
	err := db.inTx(ctx, func(tx *writeTx) error {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)`, name, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	})
	return key, translate(err)
}
