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
	org, err := scanOrg(s.read.QueryRowContext(ctx, selectOrg+` WHERE id = ?`, id))
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

func (s *authStore) ListOrganizations(ctx context.Context, offset, limit int) ([]*auth.Organization, int, error) {
	return listPage(ctx, s.read, scanOrg, list{Sel: selectOrg, Order: `created_at, id`}, offset, limit)
}

func (s *authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	scopes, err := json.Marshal(key.Scopes)
	if err != nil {
		return fmt.Errorf("encode scopes: %w", err)
	}
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys
			(id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key.ID, key.OrgID, key.Name, key.Environment, key.Prefix, string(scopes), key.Hash,
			key.CreatedAt.UnixMilli(), millis(key.LastUsedAt.Time), millis(key.ExpiresAt.Time), millis(key.RevokedAt.Time), key.ParentKeyID)
		return err
	}))
}

const selectKey = `SELECT id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id FROM api_keys`

var keyTable = table[*auth.APIKey]{sel: selectKey, scan: scanKey, notFound: auth.ErrKeyNotFound}

// keyRow is a key as scanned: its columns in selectKey's order.
type keyRow struct {
	k                                   auth.APIKey
	scopes                              string
	created, lastUsed, expires, revoked sql.NullInt64
	parent                              sql.NullString
}

func (r *keyRow) dest() []any {
	k := &r.k
	return []any{&k.ID, &k.OrgID, &k.Name, &k.Environment, &k.Prefix, &r.scopes, &k.Hash, &r.created, &r.lastUsed, &r.expires, &r.revoked, &r.parent}
}

func (r *keyRow) key() (*auth.APIKey, error) {
	k := r.k
	if err := json.Unmarshal([]byte(r.scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes of key %s: %w", k.ID, err)
	}
	k.CreatedAt, k.LastUsedAt = clock.At(fromMillis(r.created)), clock.At(fromMillis(r.lastUsed))
	k.ExpiresAt, k.RevokedAt = clock.At(fromMillis(r.expires)), clock.At(fromMillis(r.revoked))
	if r.parent.Valid {
		k.ParentKeyID = &r.parent.String
	}
	return &k, nil
}

func scanKey(row rowScanner) (*auth.APIKey, error) {
	var r keyRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.key()
}

// selectKeyAndOrg reads a key (selectKey's columns) and its organization
// (selectOrg's) in one query.
const selectKeyAndOrg = `SELECT k.id, k.org_id, k.name, k.environment, k.prefix, k.scopes, k.hash, k.created_at, k.last_used_at,
	k.expires_at, k.revoked_at, k.parent_key_id, o.id, o.name, o.plan, o.status, o.created_at
	FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.hash = ?`

func (s *authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	var (
		r   keyRow
		org auth.Organization
		at  sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, selectKeyAndOrg, hash).Scan(append(r.dest(), &org.ID, &org.Name, &org.Plan, &org.Status, &at)...)
	if errors.Is(err, errNoRows) {
		return nil, nil, auth.ErrKeyNotFound
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	k, err := r.key()
	if err != nil {
		return nil, nil, err
	}
	org.CreatedAt = clock.At(fromMillis(at))
	return k, &org, nil
}

func (s *authStore) GetAPIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	k, err := scanKey(s.read.QueryRowContext(ctx, selectKey+` WHERE id = ?`, id))
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
			if _, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, at.UnixMilli(), id); err != nil {
				return err
			}
		}
		out = k
		_, err = tx.ExecContext(ctx, revokeSessions, at.UnixMilli(), id)
		return err
	})
	return out, translate(err)
}

// revokeSessions revokes the sessions a key started (api_keys_parent).
const revokeSessions = `UPDATE api_keys SET revoked_at = ? WHERE parent_key_id = ? AND revoked_at IS NULL`

// PurgeSessions deletes one batch of ended sessions, found by their
// expiry and their revocation through api_keys_session_expires and
// api_keys_session_revoked (each term of the OR names the indexes'
// condition, so SQLite reads both in one multi-index OR).
func (s *authStore) PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, purgeSessions, before.UnixMilli(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), translate(err)
}

const purgeSessions = `DELETE FROM api_keys WHERE id IN (
	SELECT id FROM api_keys WHERE (parent_key_id IS NOT NULL AND expires_at < ?1) OR (parent_key_id IS NOT NULL AND revoked_at < ?1)
	LIMIT ?2)`

func (s *authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	l := list{Sel: selectKey, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
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
