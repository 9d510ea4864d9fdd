package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/defaults"
	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/setyerr"
)

// Config holds the injected dependencies of a Service. Zero fields get the
// real clock and random ids.
type Config struct {
	Now   clock.Func
	NewID ids.Generator
	// Limiter enforces the plans' requests per minute; nil: no limits.
	Limiter RateLimiter
	// Limits are the requests per minute of each plan. Nil:
	// DefaultLimits(). Give every plan a limit.
	Limits map[Plan]int
	// Logger receives failures of the background key-use flush.
	Logger *slog.Logger
	// KeyCacheTTL is how long Authenticate trusts what it read about a key
	// (its tenant, scopes and plan) before reading the store again. A key
	// revoked, or an organization suspended, through this Service stops
	// working at once; through another instance sharing the store, it keeps
	// working on this one for at most KeyCacheTTL. A key's expiry is checked
	// on every request. Zero: DefaultKeyCacheTTL (10 s); negative: no cache,
	// every request reads the store.
	KeyCacheTTL time.Duration
	// KeyCacheSize bounds how many keys the cache holds. Zero:
	// DefaultKeyCacheSize (10,000).
	KeyCacheSize int
	// OnRateLimited hears of every request refused for its plan's limit,
	// for metrics.
	OnRateLimited func(Plan)
	// SessionTTL is how long a console session lasts (StartSession).
	// Zero: DefaultSessionTTL (12 h).
	SessionTTL time.Duration
	// Authenticator, when set, authenticates every request in place of
	// API keys and session cookies (see Authenticator).
	Authenticator Authenticator
	// SessionRetention is how long the record of a session that ended
	// (expired, signed out, or ended with its API key) stays in the key
	// store, listed with the keys, before Run deletes it
	// (PurgeSessions). Zero: DefaultSessionRetention (7 days); negative:
	// never deleted.
	SessionRetention time.Duration
}

// Service manages organizations and keys and authenticates requests.
type Service struct {
	store   Store
	now     clock.Func
	newID   ids.Generator
	limiter RateLimiter
	limits  map[Plan]int
	log     *slog.Logger
	keys    *keyCache // nil: no cache

	sessionTTL       time.Duration
	sessionRetention time.Duration
	host             *hostAuth // nil: API keys authenticate

	watchMu  sync.Mutex
	watchers []chan<- struct{} // told of every revocation and status change

	onRateLimited func(Plan)

	uses keyUses // the keys' last uses, not yet written
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	cfg.Now = defaults.Clock(cfg.Now)
	cfg.NewID = defaults.IDs(cfg.NewID)
	cfg.Logger = defaults.Logger(cfg.Logger)
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionRetention == 0 {
		cfg.SessionRetention = DefaultSessionRetention
	}
	if cfg.Limits == nil {
		cfg.Limits = DefaultLimits()
	}
	return &Service{store: store, now: cfg.Now, newID: cfg.NewID, limiter: cfg.Limiter, limits: maps.Clone(cfg.Limits), log: cfg.Logger, onRateLimited: cfg.OnRateLimited,
		keys: newKeyCache(cfg.KeyCacheTTL, cfg.KeyCacheSize), sessionTTL: cfg.SessionTTL,
		sessionRetention: cfg.SessionRetention, host: newHostAuth(cfg.Authenticator, store, cfg.Now, cfg.KeyCacheTTL)}
}

// CreateOrganization creates an active organization on plan.
func (s *Service) CreateOrganization(ctx context.Context, name string, plan Plan) (*Organization, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, setyerr.Invalidf("name", "must be 1 to 200 characters")
	}
	if !plan.Valid() {
		return nil, setyerr.Invalidf("plan", "must be one of starter, growth, enterprise")
	}
	org := &Organization{ID: s.newID("org"), Name: name, Plan: plan, Status: Active, CreatedAt: clock.At(clock.Stamp(s.now))}
	if err := s.store.CreateOrganization(ctx, org); err != nil {
		return nil, err
	}
	return org, nil
}

// Organization returns the organization with id.
func (s *Service) Organization(ctx context.Context, id string) (*Organization, error) {
	return s.store.GetOrganization(ctx, id)
}

// SetOrganizationStatus suspends or reactivates an organization. Its keys
// answer 402 from the next request on in this process; other instances
// sharing the store see it within their Config.KeyCacheTTL.
func (s *Service) SetOrganizationStatus(ctx context.Context, id string, status OrgStatus) (*Organization, error) {
	if status != Active && status != Suspended {
		return nil, setyerr.Invalidf("status", "must be active or suspended")
	}
	defer s.keys.drop(func(p *Principal) bool { return p.OrgID == id })
	defer s.host.forget(id)
	org, err := s.store.GetOrganization(ctx, id)
	if err != nil {
		return nil, err
	}
	org.Status = status
	if err := s.store.UpdateOrganization(ctx, org); err != nil {
		return nil, err
	}
	s.changed()
	return org, nil
}

// CountOrganizations tells whether the store is empty, for bootstrapping.
func (s *Service) CountOrganizations(ctx context.Context) (int, error) {
	return s.store.CountOrganizations(ctx)
}

// Organizations returns a page of every organization, oldest first, and
// how many there are in all.
func (s *Service) Organizations(ctx context.Context, offset, limit int) ([]*Organization, int, error) {
	return s.store.ListOrganizations(ctx, offset, limit)
}

// KeySpec describes a key to issue.
type KeySpec struct {
	Name      string
	Scopes    []Scope
	ExpiresAt time.Time // zero: never expires

	parent string // the API key a session's credential belongs to (StartSession only)
}

// IssueKeyAs creates a key for the principal's tenant, as IssueKey does,
// if the principal holds every scope it would grant: a key cannot make a
// key more powerful than itself, and only a "*" key grants "*".
func (s *Service) IssueKeyAs(ctx context.Context, p *Principal, spec KeySpec) (*APIKey, string, error) {
	if missing := p.lacks(spec.Scopes); missing != "" {
		return nil, "", setyerr.E(setyerr.Forbidden, "API key cannot grant scope %s, which it does not hold", missing)
	}
	return s.IssueKey(ctx, p.Tenant, spec)
}

// IssueKey creates a key for tenant and returns it with its secret, which is
// shown this once and never again.
func (s *Service) IssueKey(ctx context.Context, tenant Tenant, spec KeySpec) (*APIKey, string, error) {
	if err := tenant.Validate(); err != nil {
		return nil, "", err
	}
	secret := newSecret(tenant.Env)
	key, err := s.storeKey(ctx, tenant, spec, secret)
	return key, secret, err
}

// ImportKey stores a key whose secret the caller chose, for scripted set-ups
// (the example server's SETY_BOOTSTRAP_*_KEY). The secret must be a
// well-formed key of tenant's environment.
func (s *Service) ImportKey(ctx context.Context, tenant Tenant, spec KeySpec, secret string) (*APIKey, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := CheckKeyFormat(tenant.Env, secret); err != nil {
		return nil, err
	}
	return s.storeKey(ctx, tenant, spec, secret)
}

// CheckKeyFormat reports whether secret is a well-formed key of environment env.
func CheckKeyFormat(env Environment, secret string) error {
	if got, ok := parseKey(secret); !ok || got != env {
		return setyerr.Invalidf("key", "must be %s followed by 32 lowercase hex characters", keyPrefix(env))
	}
	return nil
}

func (s *Service) storeKey(ctx context.Context, tenant Tenant, spec KeySpec, secret string) (*APIKey, error) {
	if !tenant.Env.Valid() {
		return nil, setyerr.Invalidf("environment", "must be live or test")
	}
	name := strings.TrimSpace(spec.Name)
	if name == "" || len(name) > 100 {
		return nil, setyerr.Invalidf("name", "must be 1 to 100 characters")
	}
	if len(spec.Scopes) == 0 {
		return nil, setyerr.Invalidf("scopes", "must name at least one scope")
	}
	var scopes []Scope // each once, in the order first given
	for _, sc := range spec.Scopes {
		if !sc.Valid() {
			return nil, setyerr.Invalidf("scopes", "unknown scope %q", sc)
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	now := clock.Stamp(s.now)
	if !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(now) {
		return nil, setyerr.Invalidf("expires_at", "must be in the future")
	}
	key := &APIKey{
		ID:          s.newID("key"),
		OrgID:       tenant.OrgID,
		Name:        name,
		Environment: tenant.Env,
		Prefix:      displayPrefix(secret),
		Scopes:      scopes,
		Hash:        HashKey(secret),
		CreatedAt:   clock.At(now),
		ExpiresAt:   clock.At(spec.ExpiresAt.UTC().Truncate(time.Millisecond)),
	}
	if spec.parent != "" {
		key.ParentKeyID = &spec.parent
	}
	if err := s.store.CreateAPIKey(ctx, key); err != nil {
		return nil, err
	}
	return key, nil
}

// RevokeKey revokes the tenant's key id, and the sessions started with
// it; later requests with either get 401 (through other instances sharing
// the store: within their Config.KeyCacheTTL).
func (s *Service) RevokeKey(ctx context.Context, tenant Tenant, id string) (*APIKey, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	defer s.forget(id)
	return s.revoked(s.store.RevokeAPIKey(ctx, tenant, id, clock.Stamp(s.now), nil))
}

// forget drops key id, and the sessions it started, from the cache, after
// a revocation (whether or not it succeeded: dropping is always safe).
func (s *Service) forget(id string) {
	s.keys.drop(func(p *Principal) bool { return p.KeyID == id || p.ParentKeyID == id })
}

// revoked passes on the result of a revocation, telling the watchers of
// one that succeeded.
func (s *Service) revoked(key *APIKey, err error) (*APIKey, error) {
	if err == nil {
		s.changed()
	}
	return key, err
}

// RecheckEvery is how often a long-lived use of a key (an open event
// stream) should Verify it to lag the store no more than a request does:
// the key cache's TTL, or a second when keys are not cached.
func (s *Service) RecheckEvery() time.Duration {
	if s.keys == nil {
		return time.Second
	}
	return s.keys.ttl
}

// NotifyRevocations makes every revocation of a key and every change of an
// organization's status made through this Service send on wake, without
// blocking (a full buffer already holds the news): the event stream then
// re-reads the keys of its open streams at once (Verify).
func (s *Service) NotifyRevocations(wake chan<- struct{}) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	s.watchers = append(s.watchers, wake)
}

func (s *Service) changed() {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for _, w := range s.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// errUnauthenticated is the one answer to every bad key, so a caller cannot
// tell an unknown key from a revoked one by probing.
var errUnauthenticated = setyerr.E(setyerr.Unauthenticated, "missing or invalid API key: send it as Authorization: Bearer <key>")

// Authenticate resolves a raw key to the principal it acts for. It returns
// Unauthenticated for any unusable key and PaymentRequired when the key is
// fine but its organization may not use the API. A key that authenticated
// is trusted for Config.KeyCacheTTL without a store read; its expiry is
// checked every time. The principal is the caller's own.
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	p := new(Principal)
	if err := s.AuthenticateInto(ctx, raw, p); err != nil {
		return nil, err
	}
	p.Scopes = slices.Clone(p.Scopes)
	return p, nil
}

// AuthenticateInto is Authenticate writing the principal into *p, for a
// caller that keeps it in memory of its own (the HTTP middleware keeps it
// with the request's context: one allocation per request for both).
// p.Scopes may share its array with other requests' principals: read it,
// or copy it before changing it.
func (s *Service) AuthenticateInto(ctx context.Context, raw string, p *Principal) error {
	env, ok := parseKey(raw)
	if !ok {
		return errUnauthenticated
	}
	// The key's bytes on the stack (a well-formed key is short): []byte(raw)
	// allocated one copy per request, past the runtime's 32 bytes of room.
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], raw...))
	now := s.now()
	if e, ok := s.keys.get(sum, now); ok {
		if e.p.Env != env || !e.expires.IsZero() && !now.Before(e.expires) {
			return errUnauthenticated
		}
		s.uses.recordCached(e, now)
		*p = e.p
		return nil
	}
	gen := s.keys.generation()
	read, expires, err := s.read(ctx, sum, env, now)
	if err != nil {
		return err
	}
	if e := s.keys.put(sum, read, expires, now, gen); e != nil {
		s.uses.recordCached(e, now)
	} else {
		s.uses.record(read.KeyID, now)
	}
	*p = *read
	return nil
}

// Verify reads p's key and organization again from the store, past the
// key cache, and returns what authenticating with the key would return
// now: nil while it may be used, Unauthenticated once it is revoked or
// expired, PaymentRequired once its organization is suspended, or the
// store's error. The event stream calls it for the keys of its open
// streams, to end them on every instance sharing the store. A principal
// that Authenticate did not make (one built by hand) has nothing to read
// again: nil.
func (s *Service) Verify(ctx context.Context, p *Principal) error {
	if p.keyHash == [sha256.Size]byte{} {
		return nil
	}
	got, _, err := s.read(ctx, p.keyHash, p.Env, s.now())
	switch {
	case err == nil && got.KeyID != p.KeyID:
		err = errUnauthenticated
	case err == nil:
		return nil
	}
	if suspended := setyerr.Is(err, setyerr.PaymentRequired); suspended || setyerr.Is(err, setyerr.Unauthenticated) {
		// Requests with the key (or the organization's keys) stop at once
		// too, whatever the cache held.
		s.keys.drop(func(c *Principal) bool { return c.KeyID == p.KeyID || suspended && c.OrgID == p.OrgID })
	}
	return err
}

// read looks up the key whose hash is sum in the store and checks it as
// Authenticate does, returning the principal it acts for and its expiry.
func (s *Service) read(ctx context.Context, sum [sha256.Size]byte, env Environment, now time.Time) (*Principal, time.Time, error) {
	hash := sum[:]
	key, org, err := s.store.APIKeyByHash(ctx, hash)
	if setyerr.Is(err, setyerr.NotFound) {
		return nil, time.Time{}, errUnauthenticated
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("look up key: %w", err)
	}
	switch {
	case subtle.ConstantTimeCompare(key.Hash, hash) != 1, key.Environment != env:
		return nil, time.Time{}, errUnauthenticated
	case !key.RevokedAt.IsZero():
		return nil, time.Time{}, errUnauthenticated
	case !key.ExpiresAt.IsZero() && !now.Before(key.ExpiresAt.Time):
		return nil, time.Time{}, errUnauthenticated
	}
	if err := s.parentHolds(ctx, key, now); err != nil {
		return nil, time.Time{}, err
	}
	if org.ID != key.OrgID {
		return nil, time.Time{}, fmt.Errorf("look up key %s: the store returned organization %s, not %s", key.ID, org.ID, key.OrgID)
	}
	if org.Status != Active {
		return nil, time.Time{}, setyerr.E(setyerr.PaymentRequired, "organization is suspended")
	}
	if !org.Plan.HasAPIAccess() {
		return nil, time.Time{}, setyerr.E(setyerr.PaymentRequired, "plan %q has no API access", org.Plan)
	}
	return &Principal{Tenant: key.Tenant(), KeyID: key.ID, Scopes: key.Scopes, Plan: org.Plan, ExpiresAt: key.ExpiresAt.Time,
		ParentKeyID: key.Parent(), keyHash: sum}, key.ExpiresAt.Time, nil
}

// Run flushes key use (FlushLastUsed) every few seconds until ctx ends,
// and once more then, so last_used_at costs no write per request. It
// deletes the records of sessions ended longer than
// Config.SessionRetention ago (PurgeSessions) when it starts and every
// hour. It also runs the limiter's background work if it has any (a
// LeaseLimiter ends expired leases, and all of them when ctx ends).
func (s *Service) Run(ctx context.Context) {
	if r, ok := s.limiter.(interface{ Run(context.Context) }); ok {
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx) }()
		defer func() { <-done }()
	}
	purged := make(chan struct{})
	go func() { defer close(purged); s.runSessionPurge(ctx) }()
	defer func() { <-purged }()
	loop.Run(ctx, loop.Loop{Name: "record API key use", Every: 5 * time.Second, Log: s.log}, func(ctx context.Context) (bool, error) {
		return false, s.FlushLastUsed(ctx)
	})
	if err := s.FlushLastUsed(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("record API key use", "error", err)
	}
}

// FlushLastUsed writes the last use of every key used since the last
// flush, in one store write: last_used_at without a write per request.
// Run calls it every few seconds and when it stops.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	used := s.uses.take()
	if len(used) == 0 {
		return nil
	}
	if err := s.store.TouchAPIKeys(ctx, used); err != nil {
		s.uses.keep(used) // for the next flush
		return err
	}
	return nil
}

// Key returns the key with id, of whichever tenant: for an operator, who
// administers every tenant's keys (the API only ever shows a tenant its
// own).
func (s *Service) Key(ctx context.Context, id string) (*APIKey, error) {
	if !ids.Valid("key", id) {
		return nil, ErrKeyNotFound
	}
	return s.store.GetAPIKey(ctx, id)
}

// Keys returns a page of the tenant's keys, newest first.
func (s *Service) Keys(ctx context.Context, tenant Tenant, offset, limit int) ([]*APIKey, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	return s.store.ListAPIKeys(ctx, tenant, offset, limit)
}

// RevokeKeyAs revokes a key on behalf of the caller's own key: revoking
// the key making the request is a Conflict (use another key).
func (s *Service) RevokeKeyAs(ctx context.Context, p *Principal, id string) (*APIKey, error) {
	if !ids.Valid("key", id) {
		return nil, ErrKeyNotFound
	}
	if id == p.KeyID {
		return nil, setyerr.E(setyerr.Conflict, "an API key cannot revoke itself; use another key")
	}
	if id == p.ParentKeyID {
		return nil, setyerr.E(setyerr.Conflict, "a session cannot revoke the API key it was started with (that would end it too); use another key")
	}
	defer s.forget(id)
	return s.revoked(s.store.RevokeAPIKey(ctx, p.Tenant, id, clock.Stamp(s.now), func(k *APIKey) error {
		if missing := p.lacks(k.Scopes); missing != "" {
			return setyerr.E(setyerr.Forbidden, "API key cannot revoke a key holding scope %s, which it does not hold", missing)
		}
		return nil
	}))
}

// Limit counts a request of the principal against its plan's limit.
func (s *Service) Limit(ctx context.Context, p *Principal) (limit, remaining int, reset time.Time, err error) {
	if s.limiter == nil {
		return 0, 0, time.Time{}, nil
	}
	limit = s.limits[p.Plan]
	ok, remaining, reset, err := s.limiter.Take(ctx, p.Tenant, limit, s.now())
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	if !ok {
		if s.onRateLimited != nil {
			s.onRateLimited(p.Plan)
		}
		return limit, 0, reset, setyerr.E(setyerr.RateLimited, "rate limit of %d requests per minute exceeded", limit)
	}
	return limit, remaining, reset, nil
}
