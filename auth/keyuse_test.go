package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

// failingTouch fails TouchAPIKeys while fail is set.
type failingTouch struct {
	auth.Store
	fail    atomic.Bool
	touches atomic.Int64
}

func (s *failingTouch) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	s.touches.Add(1)
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.Store.TouchAPIKeys(ctx, used)
}

// lastUsed flushes svc's key uses and returns what the store holds for id.
func lastUsed(t *testing.T, svc *auth.Service, id string) time.Time {
	t.Helper()
	if err := svc.FlushLastUsed(context.Background()); err != nil {
		t.Fatal(err)
	}
	k, err := svc.Key(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k.LastUsedAt.Time
}

// A key's last use reaches the store at the next flush, with the cache on
// or off; a flush that fails keeps the uses for the next; a flush with no
// use since the last writes nothing.
func TestLastUseIsFlushed(t *testing.T) {
	for _, ttl := range []time.Duration{10 * time.Second, -1} {
		f := newCacheFixture(t, auth.Config{KeyCacheTTL: ttl})
		store := &failingTouch{Store: f.store}
		svc := auth.NewService(store, auth.Config{Now: f.clk.Now, KeyCacheTTL: ttl})
		key, secret := f.key(t, auth.KeySpec{})
		f.want(t, svc, secret, allowed)
		f.clk.Advance(1500 * time.Microsecond)
		f.want(t, svc, secret, allowed)
		if got, want := lastUsed(t, svc, key.ID), start.Add(time.Millisecond); !got.Equal(want) {
			t.Fatalf("ttl %v: last used %v, want %v (the later use, to the millisecond)", ttl, got, want)
		}
		touches := store.touches.Load()
		if err := svc.FlushLastUsed(context.Background()); err != nil || store.touches.Load() != touches {
			t.Fatalf("ttl %v: a flush with no use since wrote (%v)", ttl, err)
		}
		f.clk.Advance(time.Second)
		f.want(t, svc, secret, allowed)
		store.fail.Store(true)
		if err := svc.FlushLastUsed(context.Background()); err == nil {
			t.Fatal("the failing flush succeeded")
		}
		store.fail.Store(false)
		if got, want := lastUsed(t, svc, key.ID), f.clk.Now().Truncate(time.Millisecond); !got.Equal(want) {
			t.Fatalf("ttl %v: after a failed flush, last used %v, want %v", ttl, got, want)
		}
	}
}

// Uses recorded while flushes run are never lost: after each round of
// requests racing flushes, one more flush writes the round's time.
func TestLastUseSurvivesConcurrentFlushes(t *testing.T) {
	f := newCacheFixture(t, auth.Config{KeyCacheTTL: time.Hour})
	var keys []*auth.APIKey
	var secrets []string
	for range 4 {
		k, s := f.key(t, auth.KeySpec{})
		keys, secrets = append(keys, k), append(secrets, s)
	}
	for round := range 20 {
		f.clk.Advance(time.Second)
		var wg sync.WaitGroup
		for _, s := range secrets {
			for range 2 {
				wg.Go(func() {
					for range 50 {
						if _, err := f.svc.Authenticate(context.Background(), s); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
		}
		wg.Go(func() {
			for range 20 {
				if err := f.svc.FlushLastUsed(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		for _, k := range keys {
			if got := lastUsed(t, f.svc, k.ID); !got.Equal(f.clk.Now()) {
				t.Fatalf("round %d: key %s last used %v, want %v", round, k.ID, got, f.clk.Now())
			}
		}
	}
}
