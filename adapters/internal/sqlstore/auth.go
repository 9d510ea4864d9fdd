package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// authStore is auth.Store on a Driver: the same SQL on both engines.
type authStore struct{ d Driver }

func (s authStore) CreateOrganization(ctx context.Context, org *auth.Organization) error {
	_, err := s.d.Write(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES (?, ?, ?, ?, ?)`,
		org.ID, org.Name, org.Plan, org.Status, s.d.Time(org.CreatedAt.Time))
	return s.d.Translate(err)
}

const (
	orgColumns = `id, name, plan, status, created_at`
	selectOrg  = `SELECT ` + orgColumns + ` FROM organizations`
)

// orgRow is an organization as scanned: its columns in orgColumns' order.
type orgRow struct {
	org          auth.Organization
	plan, status string
	created      Time
}

func (r *orgRow) dest() []any {
	return []any{&r.org.ID, &r.org.Name, &r.plan, &r.status, &r.created}
}

func (r *orgRow) organization() *auth.Organization {
	org := r.org
	org.Plan, org.Status, org.CreatedAt = auth.Plan(r.plan), auth.OrgStatus(r.status), r.created.Clock()
	return &org
}

func scanOrg(row RowScanner) (*auth.Organization, error) {
	var r orgRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.organization(), nil
}

func (s authStore) GetOrganization(ctx context.Context, id string) (*auth.Organization, error) {
	org, err := scanOrg(s.d.Read().QueryRow(ctx, selectOrg+` WHERE id = ?`, id))
	org, err = Found(org, err, ErrNoRows, auth.ErrOrganizationNotFound)
	return org, s.d.Translate(err)
}

func (s authStore) UpdateOrganization(ctx context.Context, org *auth.Organization) error {
	n, err := s.d.Write(ctx, `UPDATE organizations SET name = ?, plan = ?, status = ? WHERE id = ?`, org.Name, org.Plan, org.Status, org.ID)
	if err != nil {
		return s.d.Translate(err)
	}
	if n == 0 {
		return auth.ErrOrganizationNotFound
	}
	return nil
}

func (s authStore) CountOrganizations(ctx context.Context) (int, error) {
	var n int
	err := s.d.Read().QueryRow(ctx, `SELECT count(*) FROM organizations`).Scan(&n)
	return n, s.d.Translate(err)
}

func (s authStore) ListOrganizations(ctx context.Context, offset, limit int) ([]*auth.Organization, int, error) {
	return Page(ctx, s.d, scanOrg, List{Sel: selectOrg, Order: `created_at, id`}, offset, limit)
}

func (s authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	scopes, err := json.Marshal(key.Scopes)
	if err != nil {
		return fmt.Errorf("encode scopes: %w", err)
	}
	_, err = s.d.Write(ctx, `INSERT INTO api_keys
		(id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		key.ID, key.OrgID, key.Name, key.Environment, key.Prefix, string(scopes), key.Hash,
		s.d.Time(key.CreatedAt.Time), s.d.Time(key.LastUsedAt.Time), s.d.Time(key.ExpiresAt.Time), s.d.Time(key.RevokedAt.Time), key.ParentKeyID)
	return s.d.Translate(err)
}

const (
	keyColumns = `id, org_id, name, environment, prefix, scopes, hash, created_at, last_used_at, expires_at, revoked_at, parent_key_id`
	selectKey  = `SELECT ` + keyColumns + ` FROM api_keys`
)

var keyTable = Table[*auth.APIKey]{Sel: selectKey, Scan: scanKey, NotFound: auth.ErrKeyNotFound}

// keyRow is a key as scanned: its columns in keyColumns' order.
type keyRow struct {
	k                                   auth.APIKey
	env, scopes                         string
	created, lastUsed, expires, revoked Time
}

func (r *keyRow) dest() []any {
	k := &r.k
	return []any{&k.ID, &k.OrgID, &k.Name, &r.env, &k.Prefix, &r.scopes, &k.Hash, &r.created, &r.lastUsed, &r.expires, &r.revoked, &k.ParentKeyID}
}

func (r *keyRow) key() (*auth.APIKey, error) {
	k := r.k
	if err := json.Unmarshal([]byte(r.scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes of key %s: %w", k.ID, err)
	}
	k.Environment = auth.Environment(r.env)
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt = r.created.Clock(), r.lastUsed.Clock(), r.expires.Clock(), r.revoked.Clock()
	return &k, nil
}

func scanKey(row RowScanner) (*auth.APIKey, error) {
	var r keyRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.key()
}

// selectKeyAndOrg reads a key (keyColumns) and its organization
// (orgColumns) in one statement: authentication's one round trip on a
// cache miss.
const selectKeyAndOrg = `SELECT k.id, k.org_id, k.name, k.environment, k.prefix, k.scopes, k.hash, k.created_at, k.last_used_at,
	k.expires_at, k.revoked_at, k.parent_key_id, o.id, o.name, o.plan, o.status, o.created_at
	FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.hash = ?`

func (s authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	var (
		k   keyRow
		org orgRow
	)
	err := s.d.Read().QueryRow(ctx, selectKeyAndOrg, hash).Scan(append(k.dest(), org.dest()...)...)
	if errors.Is(err, ErrNoRows) {
		return nil, nil, auth.ErrKeyNotFound
	}
	if err != nil {
		return nil, nil, s.d.Translate(err)
	}
	key, err := k.key()
	if err != nil {
		return nil, nil, err
	}
	return key, org.organization(), nil
}

func (s authStore) GetAPIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	k, err := scanKey(s.d.Read().QueryRow(ctx, selectKey+` WHERE id = ?`, id))
	k, err = Found(k, err, ErrNoRows, auth.ErrKeyNotFound)
	return k, s.d.Translate(err)
}

// RevokeAPIKey locks the key's row, so allow sees what is stored and the
// first revocation's time stays, whichever instance revokes.
func (s authStore) RevokeAPIKey(ctx context.Context, tenant auth.Tenant, id string, at time.Time, allow func(*auth.APIKey) error) (*auth.APIKey, error) {
	return keyTable.Update(ctx, s.d, tenant, id, func(tx Tx, k *auth.APIKey) error {
		if allow != nil {
			if err := allow(k.Clone()); err != nil {
				return err
			}
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = clock.At(at.UTC().Truncate(time.Millisecond)) // as it is read back
			tx.Later(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`, tx.Time(at), id)
		}
		// The sessions the key started end with it (api_keys_parent), also
		// when the key was revoked already. One started through an
		// instance that read the key before this commits may be missed
		// here: authentication checks the session's key too.
		tx.Later(`UPDATE api_keys SET revoked_at = ? WHERE parent_key_id = ? AND revoked_at IS NULL`, tx.Time(at), id)
		return nil
	})
}

// PurgeSessions deletes one batch of ended sessions in one statement,
// found by their expiry and their revocation through
// api_keys_session_expires and api_keys_session_revoked: each term of the
// OR names the indexes' condition, so SQLite reads both in one multi-index
// OR. PostgreSQL selects the batch FOR UPDATE SKIP LOCKED
// (Dialect.SkipLocked): two instances purging at once never wait for each
// other, and a row is deleted once.
func (s authStore) PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	t := s.d.Time(before)
	n, err := s.d.Write(ctx, `DELETE FROM api_keys WHERE id IN (
		SELECT id FROM api_keys WHERE (parent_key_id IS NOT NULL AND expires_at < ?) OR (parent_key_id IS NOT NULL AND revoked_at < ?)
		LIMIT ?`+s.d.SkipLocked()+`)`, t, t, limit)
	return int(n), s.d.Translate(err)
}

func (s authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	l := List{Sel: selectKey, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	return Page(ctx, s.d, scanKey, l, offset, limit)
}

// TouchAPIKeys moves last_used_at forward only (the condition is checked
// again on the latest row version when another instance touched the key
// first), updating keys in id order so that two instances touching the
// same keys never deadlock.
func (s authStore) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return s.d.InTx(ctx, func(tx Tx) error {
		for _, id := range ids {
			t := tx.Time(lastUsed[id])
			tx.Later(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, t, id, t)
		}
		return nil
	})
}
