package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
)

// firstKey returns the key stored as the setting name. Without one it
// inserts 32 fresh random bytes unless another instance did meanwhile (ON
// CONFLICT DO NOTHING, which waits for a concurrent insert to commit), then
// reads the one stored: every instance gets the first key ever committed.
// The access code key and the webhook secret key are kept so.
func firstKey(ctx context.Context, d Driver, name string) ([]byte, error) {
	var key []byte
	err := d.Read().QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	if !errors.Is(err, ErrNoRows) {
		return key, d.Translate(err)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := d.Write(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, d.Translate(err)
	}
	err = d.Read().QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	return key, d.Translate(err)
}
