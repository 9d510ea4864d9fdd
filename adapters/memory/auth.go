package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

type authStore Store

func (a *authStore) CreateOrganization(ctx context.Context, org *auth.Organization) error {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org.ID]; ok {
		return setyerr.E(setyerr.Conflict, "organization %s already exists", org.ID)
	}
	c := *org
	s.orgs[org.ID] = &c
	return nil
}

func (a *authStore) GetOrganization(ctx context.Context, id string) (*auth.Organization, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := s.orgs[id]
	if !ok {
		return nil, setyerr.E(setyerr.NotFound, "organization not found")
	}
	c := *org
	return &c, nil
}

func (a *authStore) UpdateOrganization(ctx context.Context, org *auth.Organization) error {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org.ID]; !ok {
		return setyerr.E(setyerr.NotFound, "organization not found")
	}
	c := *org
	s.orgs[org.ID] = &c
	return nil
}

func (a *authStore) CountOrganizations(ctx context.Context) (int, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orgs), nil
}

func (a *authStore) ListOrganizations(ctx context.Context, limit int) ([]*auth.Organization, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*auth.Organization, 0, len(s.orgs))
	for _, org := range s.orgs {
		c := *org
		out = append(out, &c)
	}
	slices.SortFunc(out, func(x, y *auth.Organization) int {
		if c := x.CreatedAt.Compare(y.CreatedAt.Time); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out[:min(limit, len(out))], nil
}

func (a *authStore) CreateAPIKey(ctx context.Context, key *auth.APIKey) error {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[key.OrgID]; !ok {
		return errNoOrg(key.OrgID)
	}
	if _, ok := s.keys[key.ID]; ok {
		return setyerr.E(setyerr.Conflict, "API key %s already exists", key.ID)
	}
	if _, ok := s.keysByHash[string(key.Hash)]; ok {
		return setyerr.E(setyerr.Conflict, "API key already exists")
	}
	s.keys[key.ID] = key.Clone()
	s.keysByHash[string(key.Hash)] = key.ID
	return nil
}

func (a *authStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.keysByHash[string(hash)]
	if !ok {
		return nil, setyerr.E(setyerr.NotFound, "API key not found")
	}
	return s.keys[id].Clone(), nil
}

func (a *authStore) RevokeAPIKey(ctx context.Context, tenant auth.Tenant, id string, at time.Time, allow func(*auth.APIKey) error) (*auth.APIKey, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.keys[id]
	if !ok || key.Tenant() != tenant {
		return nil, setyerr.E(setyerr.NotFound, "API key not found")
	}
	if allow != nil {
		if err := allow(key.Clone()); err != nil {
			return nil, err
		}
	}
	if key.RevokedAt.IsZero() {
		key.RevokedAt = clock.At(at)
	}
	return key.Clone(), nil
}

func (a *authStore) ListAPIKeys(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*auth.APIKey, int, error) {
	s := (*Store)(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*auth.APIKey
	for _, k := range s.keys {
		if k.Tenant() == tenant {
			match = append(match, k)
		}
	}
	slices.SortFunc(match, func(x, y *auth.APIKey) int {
		if c := y.CreatedAt.Compare(x.CreatedAt.Time); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	total := len(match)
	start, end := min(offset, total), min(offset+limit, total)
	out := make([]*auth.APIKey, 0, end-start)
	for _, k := range match[start:end] {
		out = append(out, k.Clone())
	}
	return out, total, nil
}

func (a *authStore) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
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
