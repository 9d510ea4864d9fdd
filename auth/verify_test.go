package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/setyerr"
)

// Verify reads a principal's key and organization again past the cache:
// what another instance revoked or suspended, or what expired, shows at
// once, and requests with the key stop working here too.
func TestVerifyReadsPastTheCache(t *testing.T) {
	ctx := context.Background()
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: time.Hour})
	other := f.another()
	verify := func(p *auth.Principal, kind setyerr.Kind) {
		t.Helper()
		err := f.svc.Verify(ctx, p)
		if kind == allowed && err != nil || kind != allowed && setyerr.KindOf(err) != kind {
			t.Fatalf("Verify = %v, want kind %v (-1: no error)", err, kind)
		}
	}
	authenticate := func(secret string) *auth.Principal {
		t.Helper()
		p, err := f.svc.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	key, secret := f.key(t, auth.KeySpec{})
	p := authenticate(secret)
	verify(p, allowed)
	if _, err := other.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	f.want(t, f.svc, secret, allowed) // this instance's cache still trusts it
	verify(p, setyerr.Unauthenticated)
	f.want(t, f.svc, secret, setyerr.Unauthenticated) // and no longer does

	_, expiring := f.key(t, auth.KeySpec{ExpiresAt: start.Add(time.Minute)})
	p = authenticate(expiring)
	f.clk.Advance(time.Minute)
	verify(p, setyerr.Unauthenticated)

	_, secret = f.key(t, auth.KeySpec{})
	p = authenticate(secret)
	if _, err := other.SetOrganizationStatus(ctx, f.org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	verify(p, setyerr.PaymentRequired)
	f.want(t, f.svc, secret, setyerr.PaymentRequired)
	if _, err := other.SetOrganizationStatus(ctx, f.org.ID, auth.Active); err != nil {
		t.Fatal(err)
	}
	verify(p, allowed)

	// A principal made by hand has nothing to read again.
	verify(&auth.Principal{Tenant: f.tenant, KeyID: "key_0000000000000000"}, allowed)
}

// Revocations and status changes made through a Service wake its watchers.
func TestNotifyRevocations(t *testing.T) {
	ctx := context.Background()
	f := newCacheFixture(t, auth.Config{})
	wake := make(chan struct{}, 1)
	f.svc.NotifyRevocations(wake)
	key, _ := f.key(t, auth.KeySpec{})
	select {
	case <-wake:
		t.Fatal("woken by a key's creation")
	default:
	}
	if _, err := f.svc.RevokeKey(ctx, f.tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	<-wake
	if _, err := f.svc.RevokeKey(ctx, f.tenant, "key_0000000000000000"); err == nil {
		t.Fatal("revoked a key that does not exist")
	}
	select {
	case <-wake:
		t.Fatal("woken by a failed revocation")
	default:
	}
	if _, err := f.svc.SetOrganizationStatus(ctx, f.org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	<-wake
}

// A long-lived use of a key rechecks it as often as the cache rereads it.
func TestRecheckEvery(t *testing.T) {
	for ttl, want := range map[time.Duration]time.Duration{0: auth.DefaultKeyCacheTTL, time.Minute: time.Minute, -1: time.Second} {
		if got := auth.NewService(nil, auth.Config{KeyCacheTTL: ttl}).RecheckEvery(); got != want {
			t.Errorf("KeyCacheTTL %v: RecheckEvery %v, want %v", ttl, got, want)
		}
	}
}
