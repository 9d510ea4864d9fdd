package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

type authStore DB

func (s *authStore) CreateOrganization(ctx context.Context, org *auth.Organization) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ($1, $2, $3, $4, $5)`,
		org.ID, org.Name, string(org.Plan), string(org.Status), at(org.CreatedAt.Time))
	return translate(err)
}

const (
	orgColumns = `id, name, plan, status, created_at`
	selectOrg  = `SELECT ` + orgColumns + ` FROM organizations`
)

func scanOrg(row rowScanner) (*auth.Organization, error) {
	var (
		org          auth.Organization
		plan, status string
		t            pgtype.Timestamptz
	)
	if err := row.Scan(&org.ID, &org.Name, &plan, &status, &t); err != nil {
		return nil, err
	}
	org.Plan, org.Status, org.CreatedAt = auth.Plan(plan), auth.OrgStatus(status), clock.At(fromAt(t))
	return &org, nil
}

func (s *authStore) GetOrganization(ctx context.Context, id string) (*auth.Organization, error) {
	org, err := scanOrg(s.pool.QueryRow(ctx, selectOrg+` WHERE id = $1`, id))
	if errors.Is(err, errNoRows) {
		return nil, auth.ErrOrganizationNotFound
	}
	return org, translate(err)
}

func (s *authStore) UpdateOrganization(ctx context.Context, org *auth.Organization) error {
	tag, err := s.pool.Exec(ctx, `UPDATE organizations SET name = $1, plan = $2, status = $3 WHERE id = $4`,
		org.Name, string(org.Plan), string(org.Status), org.ID)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrOrganizationNotFound
	}
	return nil
}

func (s *authStore) CountOrganizations(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM organizations`).Scan(&n)
	return n, translate(err)
}

func (s *authStore) ListOrganizations(ctx context.Context, offset, limit int) ([]*auth.Organization, int, error) {
	return listPage(ctx, (*DB)(s), scanOrg, list{Sel: selectOrg, Order: `created_at, id`}, offset, limit)
}

func (s *authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	scopes, err := json.Marshal(key.Scopes)
	if err != nil {
		return fmt.Errorf("encode scopes: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_keys
		(id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		key.ID, key.OrgID, key.Name, string(key.Environment), key.Prefix, string(scopes), key.Hash,
		at(key.CreatedAt.Time), at(key.LastUsedAt.Time), at(key.ExpiresAt.Time), at(key.RevokedAt.Time), key.ParentKeyID)
	return translate(err)
}

const (
	keyColumns = `id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id`
	selectKey  = `SELECT ` + keyColumns + ` FROM api_keys`
)

var keyTable = table[*auth.APIKey]{sel: selectKey, scan: scanKey, notFound: auth.ErrKeyNotFound}

func scanKey(row rowScanner) (*auth.APIKey, error) {
	var (
		k                                   auth.APIKey
		env, scopes                         string
		created, lastUsed, expires, revoked pgtype.Timestamptz
	)
	if err := row.Scan(&k.ID, &k.OrgID, &k.Name, &env, &k.Prefix, &scopes, &k.Hash, &created, &lastUsed, &expires, &revoked, &k.ParentKeyID); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes of key %s: %w", k.ID, err)
	}
	k.Environment = auth.Environment(env)
	k.CreatedAt, k.LastUsedAt = clock.At(fromAt(created)), clock.At(fromAt(lastUsed))
	k.ExpiresAt, k.RevokedAt = clock.At(fromAt(expires)), clock.At(fromAt(revoked))
	return &k, nil
}

// APIKeyByHash reads the key and its organization in one statement (a
// join): authentication's one round trip on a cache miss.
func (s *authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	var org *auth.Organization
	k, err := scanKey(then(func(key []any) error {
		row := s.pool.QueryRow(ctx, `SELECT `+prefixed("k.", keyColumns)+`, `+prefixed("o.", orgColumns)+`
			FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.hash = $1`, hash)
		var err error
		org, err = scanOrg(then(func(o []any) error { return row.Scan(append(key, o...)...) }))
		return err
	}))
	if errors.Is(err, errNoRows) {
		return nil, nil, auth.ErrKeyNotFound
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	return k, org, nil
}

// RevokeAPIKey locks the key's row, so allow sees what is stored and the
// first revocation's time stays, whichever instance revokes.
func (s *authStore) GetAPIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, selectKey+` WHERE id = $1`, id))
	if errors.Is(err, errNoRows) {
		return nil, auth.ErrKeyNotFound
	}
	return k, translate(err)
}

func (s *authStore) RevokeAPIKey(ctx context.Context, tenant auth.Tenant, id string, t time.Time, allow func(*auth.APIKey) error) (*auth.APIKey, error) {
	return keyTable.update(ctx, (*DB)(s), tenant, id, func(tx *txn, k *auth.APIKey) error {
		if allow != nil {
			if err := allow(k.Clone()); err != nil {
				return err
			}
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = clock.At(fromAt(at(t)))
			tx.later(`UPDATE api_keys SET revoked_at = $1 WHERE id = $2`, at(t), id)
		}
		// The sessions the key started end with it (api_keys_parent). One
		// started through an instance that read the key before this
		// commits may be missed here: authentication checks the key too.
		tx.later(`UPDATE api_keys SET revoked_at = $1 WHERE parent_key_id = $2 AND revoked_at IS NULL`, at(t), id)
		return nil
	})
}

// PurgeSessions deletes one batch of ended sessions, found by their expiry
// and their revocation through api_keys_session_expires and
// api_keys_session_revoked, in one statement. SKIP LOCKED passes over rows
// another instance's purge (or a revocation) holds, so two purges never
// wait for each other, and a row is deleted once.
func (s *authStore) PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id IN (
		SELECT id FROM api_keys WHERE parent_key_id IS NOT NULL AND (expires_at < $1 OR revoked_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, at(before), limit)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	l := list{Sel: selectKey, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	return listPage(ctx, (*DB)(s), scanKey, l, offset, limit)
}

// TouchAPIKeys moves last_used_at forward only (the condition is checked
// again on the latest row version when another instance touched the key
// first), updating keys in id order so that two instances touching the
// same keys never deadlock.
func (s *authStore) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		for _, id := range ids {
			tx.later(`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, at(lastUsed[id]), id)
		}
		return nil
	})
}
