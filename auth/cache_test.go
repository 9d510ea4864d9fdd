package auth_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// countingStore counts key look-ups. If hold is set, the first look-up
// signals read once it has read, and waits for hold before it returns.
type countingStore struct {
	auth.Store
	reads      atomic.Int64
	hold, read chan struct{}
	held       atomic.Bool
}

func (s *countingStore) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	s.reads.Add(1)
	k, org, err := s.Store.APIKeyByHash(ctx, hash)
	if s.hold != nil && s.held.CompareAndSwap(false, true) {
		s.read <- struct{}{}
		<-s.hold
	}
	return k, org, err
}

type cacheFixture struct {
	store  *countingStore
	clk    *clock.Fake
	svc    *auth.Service
	org    *auth.Organization
	tenant auth.Tenant
}

func newCacheFixture(t *testing.T, cfg auth.Config) *cacheFixture {
	t.Helper()
	f := &cacheFixture{store: &countingStore{Store: memory.New().AuthStore()}, clk: clock.NewFake(start)}
	cfg.Now = f.clk.Now
	f.svc = auth.NewService(f.store, cfg)
	var err error
	if f.org, err = f.svc.CreateOrganization(context.Background(), "Acme Rides", auth.Growth); err != nil {
		t.Fatal(err)
	}
	f.tenant = auth.Tenant{OrgID: f.org.ID, Env: auth.Live}
	return f
}

// another is a second Service over the same store: another instance.
func (f *cacheFixture) another() *auth.Service {
	return auth.NewService(f.store.Store, auth.Config{Now: f.clk.Now})
}

func (f *cacheFixture) key(t *testing.T, spec auth.KeySpec) (*auth.APIKey, string) {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "k"
	}
	if spec.Scopes == nil {
		spec.Scopes = []auth.Scope{auth.All}
	}
	key, secret, err := f.svc.IssueKey(context.Background(), f.tenant, spec)
	if err != nil {
		t.Fatal(err)
	}
	return key, secret
}

// allowed is the "kind" of no error, for want.
const allowed setyerr.Kind = -1

// want authenticates secret through svc and fails unless the error is of
// kind.
func (f *cacheFixture) want(t *testing.T, svc *auth.Service, secret string, kind setyerr.Kind) {
	t.Helper()
	_, err := svc.Authenticate(context.Background(), secret)
	if kind == allowed && err != nil || kind != allowed && setyerr.KindOf(err) != kind {
		t.Fatalf("Authenticate = %v, want kind %v (-1: no error)", err, kind)
	}
}

func TestKeyCacheReadsTheStoreOncePerTTL(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: 10 * time.Second})
	_, secret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.IncidentsRead}})
	for range 3 {
		p, err := f.svc.Authenticate(context.Background(), secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.Tenant != f.tenant || p.Plan != auth.Growth || !p.Can(auth.IncidentsRead) || p.Can(auth.IncidentsWrite) {
			t.Fatalf("principal %+v", p)
		}
		p.Scopes[0] = auth.All // the caller's copy
	}
	if n := f.store.reads.Load(); n != 1 {
		t.Fatalf("%d store reads for 3 requests within the TTL, want 1", n)
	}
	f.clk.Advance(10 * time.Second)
	p, err := f.svc.Authenticate(context.Background(), secret)
	if err != nil || p.Can(auth.IncidentsWrite) {
		t.Fatalf("after the TTL: %+v %v", p, err)
	}
	if n := f.store.reads.Load(); n != 2 {
		t.Fatalf("%d store reads after the TTL, want 2", n)
	}
}

func TestKeyCacheOff(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: -1})
	_, secret := f.key(t, auth.KeySpec{})
	for range 3 {
		f.want(t, f.svc, secret, allowed)
	}
	if n := f.store.reads.Load(); n != 3 || auth.CachedKeys(f.svc) != 0 {
		t.Fatalf("%d store reads, %d cached; want 3 and 0", n, auth.CachedKeys(f.svc))
	}
}

// Revocation and suspension through this Service apply to the next request.
func TestKeyCacheDropsAtOnce(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: time.Hour})
	ctx := context.Background()
	admin, adminSecret := f.key(t, auth.KeySpec{})
	revoked, revokedSecret := f.key(t, auth.KeySpec{})
	revokedAs, revokedAsSecret := f.key(t, auth.KeySpec{})
	for _, s := range []string{adminSecret, revokedSecret, revokedAsSecret} {
		f.want(t, f.svc, s, allowed)
	}
	if _, err := f.svc.RevokeKey(ctx, f.tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, revokedSecret, setyerr.Unauthenticated)
	p, err := f.svc.Authenticate(ctx, adminSecret)
	if err != nil || p.KeyID != admin.ID {
		t.Fatal(p, err)
	}
	if _, err := f.svc.RevokeKeyAs(ctx, p, revokedAs.ID); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, revokedAsSecret, setyerr.Unauthenticated)

	if _, err := f.svc.SetOrganizationStatus(ctx, f.org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, adminSecret, setyerr.PaymentRequired)
	if _, err := f.svc.SetOrganizationStatus(ctx, f.org.ID, auth.Active); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, adminSecret, allowed)
}

// Through another instance, a revocation or a suspension reaches this one
// within its TTL, not sooner.
func TestKeyCacheStalenessIsBoundedByTTL(t *testing.T) {
	const ttl = 5 * time.Second
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: ttl})
	ctx := context.Background()
	other := f.another()
	key, secret := f.key(t, auth.KeySpec{})
	f.want(t, f.svc, secret, allowed)
	if _, err := other.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	f.want(t, other, secret, setyerr.Unauthenticated)
	f.clk.Advance(ttl - time.Millisecond)
	f.want(t, f.svc, secret, allowed) // stale, within the bound
	f.clk.Advance(time.Millisecond)
	f.want(t, f.svc, secret, setyerr.Unauthenticated)

	_, second := f.key(t, auth.KeySpec{})
	f.want(t, f.svc, second, allowed)
	if _, err := other.SetOrganizationStatus(ctx, f.org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(ttl - time.Millisecond)
	f.want(t, f.svc, second, allowed)
	f.clk.Advance(time.Millisecond)
	f.want(t, f.svc, second, setyerr.PaymentRequired)
}

// A cached key still stops at its expires_at, to the millisecond.
func TestKeyCacheExpiryIsExact(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: 24 * time.Hour})
	_, secret := f.key(t, auth.KeySpec{ExpiresAt: start.Add(time.Hour)})
	f.want(t, f.svc, secret, allowed)
	f.clk.Advance(time.Hour - time.Millisecond)
	f.want(t, f.svc, secret, allowed)
	f.clk.Advance(time.Millisecond)
	f.want(t, f.svc, secret, setyerr.Unauthenticated)
	if n := f.store.reads.Load(); n != 1 {
		t.Fatalf("%d store reads, want 1: the expiry is checked on the cached entry", n)
	}
}

// Only keys that authenticate are cached, and never more than the bound.
func TestKeyCacheHoldsOnlyValidKeysUpToItsSize(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheSize: 3})
	ctx := context.Background()
	for i := range 500 {
		f.want(t, f.svc, fmt.Sprintf("sety_live_%032x", i), setyerr.Unauthenticated)
	}
	revoked, revokedSecret := f.key(t, auth.KeySpec{})
	if _, err := f.svc.RevokeKey(ctx, f.tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, revokedSecret, setyerr.Unauthenticated)
	if n := auth.CachedKeys(f.svc); n != 0 {
		t.Fatalf("%d keys cached after unknown and revoked keys only", n)
	}
	var secrets []string
	for range 5 {
		_, s := f.key(t, auth.KeySpec{})
		secrets = append(secrets, s)
	}
	for range 2 {
		for _, s := range secrets {
			f.want(t, f.svc, s, allowed)
			if n := auth.CachedKeys(f.svc); n > 3 {
				t.Fatalf("%d keys cached, bound 3", n)
			}
		}
	}
}

// A look-up under way when a key is revoked here does not put the key back
// into the cache.
func TestKeyCacheRevokeDuringLookUp(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: time.Hour})
	ctx := context.Background()
	key, secret := f.key(t, auth.KeySpec{})
	f.store.hold, f.store.read = make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := f.svc.Authenticate(ctx, secret)
		done <- err
	}()
	<-f.store.read // the look-up has read the key, not yet revoked
	if _, err := f.svc.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	close(f.store.hold)
	if err := <-done; err != nil {
		t.Fatalf("the look-up that read the key before its revocation: %v", err)
	}
	if n := auth.CachedKeys(f.svc); n != 0 {
		t.Fatalf("%d keys cached: the look-up put the revoked key back", n)
	}
	f.want(t, f.svc, secret, setyerr.Unauthenticated)
}
