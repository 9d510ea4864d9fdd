package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

type authStore Store

func (a *authStore) CreateOrganization(ctx context.Context, org *auth.Organization) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org.ID]; ok {
		return setyerr.E(setyerr.Conflict, "organization %s already exists", org.ID)
	}
	s.orgs[org.ID] = cloneOrg(org)
	return nil
}

func (a *authStore) GetOrganization(ctx context.Context, id string) (*auth.Organization, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := s.orgs[id]
	if !ok {
		return nil, auth.ErrOrganizationNotFound
	}
	return cloneOrg(org), nil
}

func (a *authStore) UpdateOrganization(ctx context.Context, org *auth.Organization) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org.ID]; !ok {
		return auth.ErrOrganizationNotFound
	}
	s.orgs[org.ID] = cloneOrg(org)
	return nil
}

func (a *authStore) CountOrganizations(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orgs), nil
}

func (a *authStore) ListOrganizations(ctx context.Context, offset, limit int) ([]*auth.Organization, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	all := slices.Collect(maps.Values(s.orgs))
	byCreation := oldestFirst(func(o *auth.Organization) (time.Time, string) { return o.CreatedAt.Time, o.ID })
	items, total := page(all, byCreation, offset, limit, cloneOrg)
	return items, total, nil
}

func cloneOrg(org *auth.Organization) *auth.Organization {
	c := *org
	return &c
}

func (a *authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkNew(s, s.keys, key.OrgID, key.ID); err != nil {
		return err
	}
	if _, ok := s.keysByHash[string(key.Hash)]; ok {
		return setyerr.E(setyerr.Conflict, "API key already exists")
	}
	if parent := key.Parent(); parent != "" && s.keys[parent] == nil {
		return fmt.Errorf("memory: parent key %s does not exist", parent) // as a foreign key would refuse it
	}
	s.keys[key.ID] = key.Clone()
	s.keysByHash[string(key.Hash)] = key.ID
	return nil
}

func (a *authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.keysByHash[string(hash)]
	if !ok {
		return nil, nil, auth.ErrKeyNotFound
	}
	key := s.keys[id]
	org, ok := s.orgs[key.OrgID]
	if !ok {
		return nil, nil, auth.ErrKeyNotFound // cannot happen: keys are stored only for existing organizations
	}
	return key.Clone(), cloneOrg(org), nil
}

func (a *authStore) GetAPIKey(ctx context.Context, id string) (*auth.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.keys[id]
	if !ok {
		return nil, auth.ErrKeyNotFound
	}
	return key.Clone(), nil
}

func (a *authStore) RevokeAPIKey(ctx context.Context, tenant auth.Tenant, id string, at time.Time, allow func(*auth.APIKey) error) (*auth.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := lookup(s.keys, tenant, id, auth.ErrKeyNotFound)
	if err != nil {
		return nil, err
	}
	if allow != nil {
		if err := allow(key.Clone()); err != nil {
			return nil, err
		}
	}
	if key.RevokedAt.IsZero() {
		key.RevokedAt = clock.At(at)
	}
	for _, k := range s.keys { // the sessions it started end with it
		if k.Parent() == id && k.RevokedAt.IsZero() {
			k.RevokedAt = clock.At(at)
		}
	}
	return key.Clone(), nil
}

func (a *authStore) PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.keys {
		if n == limit {
			break
		}
		ended := !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(before) || !k.RevokedAt.IsZero() && k.RevokedAt.Before(before)
		if k.Parent() == "" || !ended {
			continue
		}
		delete(s.keys, id)
		delete(s.keysByHash, string(k.Hash))
		n++
	}
	return n, nil
}

func (a *authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	match := matching(s.keys, func(k *auth.APIKey) bool { return k.Tenant() == tenant })
	newest := newestFirst(func(k *auth.APIKey) (time.Time, string) { return k.CreatedAt.Time, k.ID })
	items, total := page(match, newest, offset, limit, (*auth.APIKey).Clone)
	return items, total, nil
}

func (a *authStore) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range lastUsed {
		if k, ok := s.keys[id]; ok && t.After(k.LastUsedAt.Time) {
			k.LastUsedAt = clock.At(t)
		}
	}
	return nil
}
