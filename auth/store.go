package auth

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/auth_store.go -package=mock -mock_names=Store=AuthStore

import (
	"context"
	"time"

	"github.com/sety-io/sety/setyerr"
)

// What stores return for an organization or an API key that does not exist
// (for keys: or belongs to another tenant).
var (
	ErrOrganizationNotFound = setyerr.E(setyerr.NotFound, "organization not found")
	ErrKeyNotFound          = setyerr.E(setyerr.NotFound, "API key not found")
)

// Store persists organizations and API keys. Implementations return
// ErrOrganizationNotFound and ErrKeyNotFound (setyerr.NotFound) for absent
// rows and setyerr.Conflict for duplicate ids.
type Store interface {
	// CreateOrganization inserts org.
	CreateOrganization(ctx context.Context, org *Organization) error
	// GetOrganization returns the organization with id, or NotFound.
	GetOrganization(ctx context.Context, id string) (*Organization, error)
	// UpdateOrganization replaces the plan, name and status of org, or NotFound.
	UpdateOrganization(ctx context.Context, org *Organization) error
	// CountOrganizations returns how many organizations exist.
	CountOrganizations(ctx context.Context) (int, error)
	// ListOrganizations returns a page of every organization, oldest first
	// (then by id), and how many there are in all, both read from one
	// snapshot.
	ListOrganizations(ctx context.Context, offset, limit int) ([]*Organization, int, error)

	// CreateAPIKey inserts key, with its ParentKeyID (a session's
	// credential: the API key, of the same tenant, that started it); a
	// duplicate id or hash is Conflict.
	CreateAPIKey(ctx context.Context, key *APIKey) error
	// APIKeyByHash returns the key whose SHA-256 is hash and the
	// organization it belongs to, read together (authentication needs both
	// on a cache miss), or NotFound.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, *Organization, error)
	// GetAPIKey returns the key with id, of whichever tenant (operators
	// administer every tenant's keys), or NotFound.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns a page of the tenant's keys, newest first.
	ListAPIKeys(ctx context.Context, tenant Tenant, offset, limit int) ([]*APIKey, int, error)
	// TouchAPIKeys sets last_used_at of the given keys (by id) where it is
	// older, in one write.
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
	// RevokeAPIKey sets revoked_at on the tenant's key id (first revocation
	// wins) and returns it; NotFound when the tenant has no such key. In
	// the same transaction it sets revoked_at on every key whose
	// ParentKeyID is id and that is not revoked yet (the sessions the key
	// started), also when id itself was revoked already. If allow is not
	// nil it is called with the stored key first, in the same transaction,
	// and an error from it is returned with nothing written.
	RevokeAPIKey(ctx context.Context, tenant Tenant, id string, at time.Time, allow func(*APIKey) error) (*APIKey, error)
	// PurgeSessions deletes up to limit sessions' keys (keys with a
	// ParentKeyID) of every tenant that expired before before, or were
	// revoked before before. Keys without a parent are never deleted. It
	// returns how many it deleted; limit of them means there may be more.
	// Callers on several instances may purge at once: none waits for
	// another's batch, and a key is deleted once.
	PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error)
}
