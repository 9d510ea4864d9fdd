package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// startSession signs in through svc with secret, as POST /sessions does,
// and returns the session's key record and secret.
func (f *cacheFixture) startSession(t *testing.T, svc *auth.Service, secret string) (*auth.APIKey, string) {
	t.Helper()
	p, err := svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	key, session, err := svc.StartSession(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return key, session
}

// A session ends with the key that started it: at once on the instance
// that revokes the key, within the key cache's TTL on another, and a
// session another instance starts from its cached copy of the revoked key
// never works.
func TestSessionEndsWithItsKey(t *testing.T) {
	const ttl = 5 * time.Second
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: ttl})
	ctx := context.Background()
	other := auth.NewService(f.store.Store, auth.Config{Now: f.clk.Now, KeyCacheTTL: ttl})
	key, secret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.Console}})
	sessionKey, here := f.startSession(t, f.svc, secret)
	if sessionKey.Parent() != key.ID || sessionKey.Name != "Console session of "+key.ID {
		t.Fatalf("session record %+v", sessionKey)
	}
	p, err := f.svc.Authenticate(ctx, here)
	if err != nil || p.ParentKeyID != key.ID || p.KeyID != sessionKey.ID {
		t.Fatalf("session principal %+v, %v", p, err)
	}
	_, there := f.startSession(t, other, secret)
	f.want(t, other, here, allowed)
	f.want(t, other, there, allowed)
	unrelated, unrelatedSecret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.Console}})
	_, unrelatedSession := f.startSession(t, f.svc, unrelatedSecret)

	if _, err := f.svc.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	// This instance: at once, however long its cache trusts entries.
	f.want(t, f.svc, here, setyerr.Unauthenticated)
	f.want(t, f.svc, there, setyerr.Unauthenticated)
	f.want(t, f.svc, unrelatedSession, allowed)
	// The other: within its TTL. Meanwhile it still trusts the key, and a
	// session it starts from it is refused at its first use: its key is
	// read with it.
	late, lateSecret := f.startSession(t, other, secret)
	f.want(t, other, lateSecret, setyerr.Unauthenticated)
	f.want(t, f.svc, lateSecret, setyerr.Unauthenticated)
	f.clk.Advance(ttl - time.Millisecond)
	f.want(t, other, here, allowed) // stale, within the bound
	f.clk.Advance(time.Millisecond)
	f.want(t, other, here, setyerr.Unauthenticated)
	f.want(t, other, there, setyerr.Unauthenticated)
	f.want(t, other, unrelatedSession, allowed)

	// Revoking the key again records the late session's end too.
	if _, err := other.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Key(ctx, late.ID); got.RevokedAt.IsZero() {
		t.Fatal("a second revocation of the key left a session of it unrevoked")
	}
	if got, _ := f.svc.Key(ctx, unrelated.ID); !got.RevokedAt.IsZero() {
		t.Fatal("another key was revoked")
	}
}

// A session stored with more than its key holds, or beyond its key's
// expiry (a store written by an older release or by hand), does not work:
// the key's own state decides, on every read of the session.
func TestSessionChecksItsKey(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: -1})
	ctx := context.Background()
	expiring, _ := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.Console}, ExpiresAt: start.Add(time.Hour)})
	narrow, _ := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.IncidentsRead}})
	otherEnv, _, err := f.svc.IssueKey(ctx, auth.Tenant{OrgID: f.org.ID, Env: auth.Test}, auth.KeySpec{Name: "t", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	session := func(parent *auth.APIKey, secret string, scopes ...auth.Scope) string {
		t.Helper()
		id := parent.ID
		k := &auth.APIKey{ID: "key_" + secret[len(secret)-16:], OrgID: f.org.ID, Name: "Console session of " + id, Environment: auth.Live,
			Prefix: secret[:14], Scopes: scopes, Hash: auth.HashKey(secret), CreatedAt: clock.At(start),
			ExpiresAt: clock.At(start.Add(12 * time.Hour)), ParentKeyID: &id}
		if err := f.store.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	outlives := session(expiring, "sety_live_00000000000000000000000000000a01", auth.Console)
	wider := session(narrow, "sety_live_00000000000000000000000000000a02", auth.IncidentsRead, auth.IncidentsWrite)
	held := session(narrow, "sety_live_00000000000000000000000000000a03", auth.IncidentsRead)
	crossed := session(otherEnv, "sety_live_00000000000000000000000000000a04", auth.IncidentsRead)

	f.want(t, f.svc, wider, setyerr.Unauthenticated)
	f.want(t, f.svc, held, allowed)
	f.want(t, f.svc, crossed, setyerr.Unauthenticated)
	f.want(t, f.svc, outlives, allowed)
	f.clk.Advance(time.Hour)
	f.want(t, f.svc, outlives, setyerr.Unauthenticated)
}

// A session's credential, sent as a key, cannot start a session (which
// could otherwise be renewed forever) nor revoke the key it came from.
func TestSessionCannotStartAnotherOrRevokeItsKey(t *testing.T) {
	f := newCacheFixture(t, auth.Config{})
	ctx := context.Background()
	key, secret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.All}})
	_, session := f.startSession(t, f.svc, secret)
	p, err := f.svc.Authenticate(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.StartSession(ctx, p); setyerr.KindOf(err) != setyerr.Forbidden {
		t.Fatalf("a session started from a session's credential: %v, want Forbidden", err)
	}
	if _, err := f.svc.RevokeKeyAs(ctx, p, key.ID); setyerr.KindOf(err) != setyerr.Conflict {
		t.Fatalf("a session revoking its own key: %v, want Conflict", err)
	}
	f.want(t, f.svc, secret, allowed)
	// A host's Authenticator signs requests in with no key: no session.
	host := &auth.Principal{Tenant: f.tenant, Scopes: []auth.Scope{auth.All}, Plan: auth.Growth}
	if _, _, err := f.svc.StartSession(ctx, host); setyerr.KindOf(err) != setyerr.Forbidden {
		t.Fatalf("a session of a host's principal: %v, want Forbidden", err)
	}
}

// Ended sessions are deleted once Config.SessionRetention has passed since
// they ended (expired or revoked); sessions still running and API keys,
// revoked or not, stay.
func TestPurgeSessions(t *testing.T) {
	const retention = 24 * time.Hour
	f := newCacheFixture(t, auth.Config{SessionTTL: time.Hour, SessionRetention: retention})
	ctx := context.Background()
	_, secret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.Console}})
	revokedKey, revokedSecret := f.key(t, auth.KeySpec{Scopes: []auth.Scope{auth.Console}})
	expires, _ := f.startSession(t, f.svc, secret)
	signedOut, _ := f.startSession(t, f.svc, revokedSecret)
	if _, err := f.svc.RevokeKey(ctx, f.tenant, revokedKey.ID); err != nil { // ends signedOut
		t.Fatal(err)
	}
	f.clk.Advance(30 * time.Minute)
	_, runningSecret := f.startSession(t, f.svc, secret)

	purge := func(want int) {
		t.Helper()
		if n, err := f.svc.PurgeSessions(ctx); err != nil || n != want {
			t.Fatalf("PurgeSessions at %v: %d, %v; want %d", f.clk.Now(), n, err, want)
		}
	}
	f.clk.Advance(retention - 30*time.Minute) // signedOut ended at start: exactly the cut-off
	purge(0)
	f.clk.Advance(time.Millisecond)
	purge(1)
	if _, err := f.svc.Key(ctx, signedOut.ID); setyerr.KindOf(err) != setyerr.NotFound {
		t.Fatalf("the session ended with its key: %v", err)
	}
	f.clk.Advance(time.Hour - time.Millisecond) // expires ended at start + 1 h: exactly the cut-off
	purge(0)
	f.clk.Advance(time.Millisecond)
	purge(1)
	if _, err := f.svc.Key(ctx, expires.ID); setyerr.KindOf(err) != setyerr.NotFound {
		t.Fatalf("the expired session: %v", err)
	}
	f.want(t, f.svc, runningSecret, setyerr.Unauthenticated) // ended at start + 90 min
	f.clk.Advance(30 * time.Minute)
	purge(1)
	keys, total, err := f.svc.Keys(ctx, f.tenant, 0, 10)
	if err != nil || total != 2 || keys[0].ParentKeyID != nil || keys[1].ParentKeyID != nil {
		t.Fatalf("left: %d keys %v, %v; want the two API keys", total, keys, err)
	}
}

func TestPurgeSessionsOff(t *testing.T) {
	f := newCacheFixture(t, auth.Config{SessionRetention: -1})
	_, secret := f.key(t, auth.KeySpec{})
	f.startSession(t, f.svc, secret)
	f.clk.Advance(365 * 24 * time.Hour)
	if n, err := f.svc.PurgeSessions(context.Background()); err != nil || n != 0 {
		t.Fatalf("PurgeSessions with retention off: %d, %v", n, err)
	}
}

// purgeSignal tells of every PurgeSessions call, once it returns.
type purgeSignal struct {
	auth.Store
	purged chan int
}

func (s purgeSignal) PurgeSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.Store.PurgeSessions(ctx, before, limit)
	s.purged <- n
	return n, err
}

// Run purges when it starts: a server restarted more often than the purge
// interval still purges.
func TestRunPurgesSessions(t *testing.T) {
	f := newCacheFixture(t, auth.Config{})
	_, secret := f.key(t, auth.KeySpec{})
	session, _ := f.startSession(t, f.svc, secret)
	f.clk.Advance(auth.DefaultSessionTTL + 2*time.Hour)
	store := purgeSignal{Store: f.store.Store, purged: make(chan int, 1)}
	svc := auth.NewService(store, auth.Config{Now: f.clk.Now, SessionRetention: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	n := <-store.purged
	cancel()
	<-done
	if _, err := svc.Key(context.Background(), session.ID); n != 1 || setyerr.KindOf(err) != setyerr.NotFound {
		t.Fatalf("Run's first purge deleted %d; the ended session: %v", n, err)
	}
}
