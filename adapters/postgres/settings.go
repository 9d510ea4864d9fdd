package postgres

import (
	"context"
	"crypto/rand"
)

// firstKey returns the key stored as the setting name. It inserts 32 fresh
// random bytes unless there is a key (ON CONFLICT DO NOTHING, which waits
// for a concurrent insert to commit), then reads the one stored: every
// instance gets the first key ever committed. The access code key and the
// webhook secret key are kept so.
func (db *DB) firstKey(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, translate(err)
	}
	var key []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&key)
	return key, translate(err)
}
