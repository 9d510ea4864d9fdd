package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

type authStore DB

func (s *authStore) CreateOrganization(ctx context.Context, org *auth.Organization) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES (?, ?, ?, ?, ?)`,
			org.ID, org.Name, org.Plan, org.Status, org.CreatedAt.UnixMilli())
		return err
	}))
}

const selectOrg = `SELECT id, name, plan, status, created_at FROM organizations`

func scanOrg(row rowScanner) (*auth.Organization, error) {
	var (
		org auth.Organization
		at  sql.NullInt64
	)
	if err := row.Scan(&org.ID, &org.Name, &org.Plan, &org.Status, &at); err != nil {
		return nil, err
	}
	org.CreatedAt = clock.At(fromMillis(at))
	return &org, nil
}

func (s *authStore) GetOrganization(ctx context.Context, id string) (*auth.Organization, error) {
	org, err := scanOrg(s.getOrg.QueryRowContext(ctx, id))
	if errors.Is(err, errNoRows) {
		return nil, auth.ErrOrganizationNotFound
	}
	return org, translate(err)
}

func (s *authStore) UpdateOrganization(ctx context.Context, org *auth.Organization) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET name = ?, plan = ?, status = ? WHERE id = ?`,
			org.Name, org.Plan, org.Status, org.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return auth.ErrOrganizationNotFound
		}
		return nil
	}))
}

func (s *authStore) CountOrganizations(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM organizations`).Scan(&n)
	return n, translate(err)
}

func (s *authStore) ListOrganizations(ctx context.Context, limit int) ([]*auth.Organization, error) {
	return queryAll(ctx, s.read, scanOrg, selectOrg+` ORDER BY created_at, id LIMIT ?`, limit)
}

func (s *authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	scopes, err := json.Marshal(key.Scopes)
	if err != nil {
		return fmt.Errorf("encode scopes: %w", err)
	}
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys
			(id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key.ID, key.OrgID, key.Name, key.Environment, key.Prefix, string(scopes), key.Hash,
			key.CreatedAt.UnixMilli(), millis(key.LastUsedAt.Time), millis(key.ExpiresAt.Time), millis(key.RevokedAt.Time))
		return err
	}))
}

const selectKey = `SELECT id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at FROM api_keys`

var keyTable = table[*auth.APIKey]{sel: selectKey, scan: scanKey, notFound: auth.ErrKeyNotFound}

func scanKey(row rowScanner) (*auth.APIKey, error) {
	var (
		k                                   auth.APIKey
		scopes                              string
		created, lastUsed, expires, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.OrgID, &k.Name, &k.Environment, &k.Prefix, &scopes, &k.Hash, &created, &lastUsed, &expires, &revoked); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes of key %s: %w", k.ID, err)
	}
	k.CreatedAt, k.LastUsedAt = clock.At(fromMillis(created)), clock.At(fromMillis(lastUsed))
	k.ExpiresAt, k.RevokedAt = clock.At(fromMillis(expires)), clock.At(fromMillis(revoked))
	return &k, nil
}

func (s *authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, error) {
	k, err := scanKey(s.keyByHash.QueryRowContext(ctx, hash))
	if errors.Is(err, errNoRows) {
		return nil, auth.ErrKeyNotFound
	}
	return k, translate(err)
}

func (s *authStore) RevokeAPIKey(ctx context.Context, tenant auth.Tenant, id string, at time.Time, allow func(*auth.APIKey) error) (*auth.APIKey, error) {
	var out *auth.APIKey
	err := (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		k, err := keyTable.get(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if allow != nil {
			if err := allow(k.Clone()); err != nil {
				return err
			}
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = clock.At(at)
			_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, at.UnixMilli(), id)
		}
		out = k
		return err
	})
	return out, translate(err)
}

func (s *authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	l := list{sel: selectKey, order: `created_at DESC, id DESC`}
	l.and(`org_id = ? AND environment = ?`, tenant.OrgID, tenant.Env)
	return listPage(ctx, s.read, scanKey, l, offset, limit)
}

func (s *authStore) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		for id, t := range lastUsed {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				t.UnixMilli(), id, t.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	}))
}
