package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// BenchmarkPurgeSessions measures PurgeSessions beside a key store of
// 10,000 API keys and 10,000 running sessions: "batch" deletes 1,000 ended
// sessions (Service.PurgeSessions' batch: how long one call holds the
// store), "nothing" finds none to delete beside 10,000 ended sessions still
// within the retention (Run's hourly call on a quiet day). Both should
// cost what they delete, not what the store holds. Every adapter runs it:
//
//	func BenchmarkPurgeSessions(b *testing.B) { storetest.BenchmarkPurgeSessions(b, newStores) }
func BenchmarkPurgeSessions(b *testing.B, newStores NewStores) {
	ctx := context.Background()
	// sessions stores n sessions of parent, ending at ends, with secrets
	// from seq on.
	sessions := func(b *testing.B, st auth.Store, parent *auth.APIKey, n, seq int, ends time.Time) {
		b.Helper()
		id := parent.ID
		for i := range n {
			secret := fmt.Sprintf("sety_live_be%030x", seq+i)
			k := newKey(b, tenantA, secret)
			k.ParentKeyID, k.Scopes = &id, parent.Scopes
			k.CreatedAt, k.ExpiresAt = clock.At(ends.Add(-12*time.Hour)), clock.At(ends)
			must(b, st.CreateAPIKey(ctx, k))
		}
	}
	setup := func(b *testing.B) (auth.Store, *auth.APIKey, time.Time) {
		b.Helper()
		st := seeded(newStores)(b).AuthStore()
		var parent *auth.APIKey
		for i := range 10_000 {
			k := newKey(b, tenantA, fmt.Sprintf("sety_live_ba%030x", i))
			k.ExpiresAt = clock.Time{}
			must(b, st.CreateAPIKey(ctx, k))
			parent = k
		}
		now := base.Add(30 * 24 * time.Hour)
		sessions(b, st, parent, 10_000, 0, now.Add(time.Hour)) // running
		return st, parent, now.Add(-7 * 24 * time.Hour)
	}
	b.Run("batch", func(b *testing.B) {
		st, parent, before := setup(b)
		seq := 1 << 20
		for b.Loop() {
			b.StopTimer()
			sessions(b, st, parent, 1000, seq, before.Add(-time.Hour))
			seq += 1000
			b.StartTimer()
			if n, err := st.PurgeSessions(ctx, before, 1000); err != nil || n != 1000 {
				b.Fatalf("PurgeSessions: %d, %v", n, err)
			}
		}
	})
	b.Run("nothing", func(b *testing.B) {
		st, parent, before := setup(b)
		sessions(b, st, parent, 10_000, 1<<20, before.Add(time.Hour)) // ended, kept a while yet
		for b.Loop() {
			if n, err := st.PurgeSessions(ctx, before, 1000); err != nil || n != 0 {
				b.Fatalf("PurgeSessions: %d, %v", n, err)
			}
		}
	})
}

// BenchmarkAuthenticateSession measures what a session's credential costs
// on a key cache miss beside an API key's (auth.Service with no cache):
// the session's key is read too.
//
//	func BenchmarkAuthenticateSession(b *testing.B) { storetest.BenchmarkAuthenticateSession(b, newStores) }
func BenchmarkAuthenticateSession(b *testing.B, newStores NewStores) {
	ctx := context.Background()
	svc := auth.NewService(seeded(newStores)(b).AuthStore(), auth.Config{KeyCacheTTL: -1, Now: func() time.Time { return base }})
	_, key, err := svc.IssueKey(ctx, tenantA, auth.KeySpec{Name: "desk", Scopes: []auth.Scope{auth.Console}})
	must(b, err)
	p, err := svc.Authenticate(ctx, key)
	must(b, err)
	_, session, err := svc.StartSession(ctx, p)
	must(b, err)
	for _, c := range []struct{ name, secret string }{{"api_key", key}, {"session", session}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, c.secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
