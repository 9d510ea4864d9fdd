package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// testSessions checks the keys of console sessions (keys with a
// ParentKeyID): the parent is stored and read back by every read; revoking
// a key revokes its sessions in the same transaction (not another key's,
// not an already revoked one's time), also when the key was revoked
// already; and PurgeSessions deletes ended sessions in bounded batches,
// never an API key, once each when instances purge at once.
func testSessions(t *testing.T, newStores NewStores, f Features) {
	t.Run("ParentIsStored", single(newStores, sessionParentStored))
	t.Run("RevokeCascades", single(newStores, revokeCascades))
	t.Run("Purge", single(newStores, purgeSessions))
	t.Run("PurgeBatches", single(newStores, purgeSessionBatches))
	t.Run("SharedPurge", shared(newStores, f, purgeSessionsTogether))
	t.Run("SharedRevokeWhileSigningIn", shared(newStores, f, revokeWhileSigningIn))
}

// revokeWhileSigningIn: one instance revokes a key while another, whose
// cache still trusts the key, starts sessions of it. Whatever the order,
// no session of the key authenticates afterwards, on either instance, and
// a second revocation records every one of them revoked.
func revokeWhileSigningIn(t *testing.T, s []Stores) {
	ctx := context.Background()
	now := func() time.Time { return base }
	revoker := auth.NewService(s[0].AuthStore(), auth.Config{Now: now, KeyCacheTTL: -1})
	signer := auth.NewService(s[1].AuthStore(), auth.Config{Now: now, KeyCacheTTL: time.Hour})
	key, secret, err := revoker.IssueKey(ctx, tenantA, auth.KeySpec{Name: "desk", Scopes: []auth.Scope{auth.Console}})
	must(t, err)
	p, err := signer.Authenticate(ctx, secret) // cached by the signer from here on
	must(t, err)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sessions []string
	)
	for range 4 {
		wg.Go(func() {
			for range 5 {
				mine, err := signer.Authenticate(ctx, secret)
				if err != nil {
					mine = p
				}
				_, session, err := signer.StartSession(ctx, mine)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sessions = append(sessions, session)
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		if _, err := revoker.RevokeKey(ctx, tenantA, key.ID); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	fresh := auth.NewService(s[1].AuthStore(), auth.Config{Now: now, KeyCacheTTL: -1})
	for _, session := range sessions {
		for _, svc := range []*auth.Service{revoker, fresh} {
			if _, err := svc.Authenticate(ctx, session); !setyerr.Is(err, setyerr.Unauthenticated) {
				t.Fatalf("a session of the revoked key: %v, want Unauthenticated", err)
			}
		}
	}
	if _, err := revoker.RevokeKey(ctx, tenantA, key.ID); err != nil {
		t.Fatal(err)
	}
	list, total, err := revoker.Keys(ctx, tenantA, 0, 100)
	must(t, err)
	if total != len(sessions)+1 {
		t.Fatalf("%d keys, want the key and its %d sessions", total, len(sessions))
	}
	for _, k := range list {
		if k.RevokedAt.IsZero() {
			t.Fatalf("%s (%s) is not revoked after the key's second revocation", k.ID, k.Name)
		}
	}
}

// sessionSeq numbers the secrets of session fixtures.
var (
	sessionMu  sync.Mutex
	sessionSeq int
)

// storedSession creates, in st, a session key of parent's tenant started
// at started and expiring at expires.
func storedSession(t *testing.T, st auth.Store, parent *auth.APIKey, started, expires time.Time) *auth.APIKey {
	t.Helper()
	sessionMu.Lock()
	sessionSeq++
	secret := fmt.Sprintf("sety_%s_5e55%028x", parent.Environment, sessionSeq)
	sessionMu.Unlock()
	k := newKey(t, parent.Tenant(), secret)
	k.Name, k.Scopes = "Console session of "+parent.ID, parent.Scopes
	k.CreatedAt, k.ExpiresAt = clock.At(started), clock.At(expires)
	id := parent.ID
	k.ParentKeyID = &id
	must(t, st.CreateAPIKey(context.Background(), k))
	return k
}

// readKey returns key id as st stores it, or nil when it is gone.
func readKey(t testing.TB, st auth.Store, id string) *auth.APIKey {
	t.Helper()
	k, err := st.GetAPIKey(context.Background(), id)
	if setyerr.Is(err, setyerr.NotFound) {
		return nil
	}
	must(t, err)
	return k
}

func sessionParentStored(t *testing.T, s []Stores) {
	ctx := context.Background()
	st := s[0].AuthStore()
	parent := storedKey(t, st, tenantA, "sety_live_9a0000000000000000000000000000a1")
	session := storedSession(t, st, parent, base.Add(time.Minute), base.Add(12*time.Hour))
	if session.Parent() != parent.ID {
		t.Fatalf("fixture parent %q", session.Parent())
	}
	got, err := st.GetAPIKey(ctx, session.ID)
	must(t, err)
	sameJSON(t, "session by id", got, session)
	byHash, _, err := st.APIKeyByHash(ctx, session.Hash)
	must(t, err)
	sameJSON(t, "session by hash", byHash, session)
	*byHash.ParentKeyID = "key_mutated0000000"
	sameJSON(t, "session after mutating a read", readKey(t, st, session.ID), session)
	list, total, err := st.ListAPIKeys(ctx, tenantA, 0, 10)
	must(t, err)
	if total != 2 {
		t.Fatalf("%d keys listed, want the key and its session", total)
	}
	sameJSON(t, "listed session", list[0], session)
	sameJSON(t, "listed key", list[1], parent)
	if list[1].ParentKeyID != nil {
		t.Fatalf("an API key has parent %q", *list[1].ParentKeyID)
	}
	orphan := newKey(t, tenantA, "sety_live_9a0000000000000000000000000000a2")
	missing := "key_0000000000000000"
	orphan.ParentKeyID = &missing
	if err := st.CreateAPIKey(ctx, orphan); err == nil {
		t.Fatal("a session of a key that does not exist was stored")
	}
}

func revokeCascades(t *testing.T, s []Stores) {
	ctx := context.Background()
	st := s[0].AuthStore()
	parent := storedKey(t, st, tenantA, "sety_live_9b0000000000000000000000000000b1")
	other := storedKey(t, st, tenantA, "sety_live_9b0000000000000000000000000000b2")
	first := storedSession(t, st, parent, base, base.Add(12*time.Hour))
	second := storedSession(t, st, parent, base.Add(time.Minute), base.Add(12*time.Hour))
	signedOut := storedSession(t, st, parent, base, base.Add(12*time.Hour))
	othersSession := storedSession(t, st, other, base, base.Add(12*time.Hour))
	early := base.Add(30 * time.Minute)
	if _, err := st.RevokeAPIKey(ctx, tenantA, signedOut.ID, early, nil); err != nil {
		t.Fatal(err)
	}

	// Refused by allow, or asked in another tenant: nothing is written.
	_, err := st.RevokeAPIKey(ctx, tenantA, parent.ID, base, func(*auth.APIKey) error { return setyerr.E(setyerr.Forbidden, "no") })
	wantKind(t, err, setyerr.Forbidden)
	_, err = st.RevokeAPIKey(ctx, tenantATest, parent.ID, base, nil)
	wantKind(t, err, setyerr.NotFound)
	for _, k := range []*auth.APIKey{parent, first, second} {
		if got := readKey(t, st, k.ID); !got.RevokedAt.IsZero() {
			t.Fatalf("%s revoked at %v by a refused revocation", k.ID, got.RevokedAt)
		}
	}

	at := base.Add(time.Hour)
	got, err := st.RevokeAPIKey(ctx, tenantA, parent.ID, at, nil)
	must(t, err)
	if !got.RevokedAt.Equal(at) {
		t.Fatalf("key revoked at %v, want %v", got.RevokedAt, at)
	}
	want := map[*auth.APIKey]time.Time{parent: at, first: at, second: at, signedOut: early, other: {}, othersSession: {}}
	for k, when := range want {
		if got := readKey(t, st, k.ID); !got.RevokedAt.Equal(when) {
			t.Errorf("%s (%s) revoked at %v, want %v", k.ID, k.Name, got.RevokedAt, when)
		}
	}
	if byHash, _, err := st.APIKeyByHash(ctx, first.Hash); err != nil || !byHash.RevokedAt.Equal(at) {
		t.Fatalf("a session's revocation by hash: %v, %v", byHash, err)
	}

	// A session started through an instance that still trusted the key: a
	// second revocation of the key ends it too, and keeps the key's time.
	late := storedSession(t, st, parent, at.Add(time.Second), at.Add(12*time.Hour))
	again := at.Add(time.Minute)
	got, err = st.RevokeAPIKey(ctx, tenantA, parent.ID, again, nil)
	must(t, err)
	if !got.RevokedAt.Equal(at) {
		t.Fatalf("a second revocation moved the key's to %v", got.RevokedAt)
	}
	if got := readKey(t, st, late.ID); !got.RevokedAt.Equal(again) {
		t.Fatalf("late session revoked at %v, want %v", got.RevokedAt, again)
	}
	if got := readKey(t, st, first.ID); !got.RevokedAt.Equal(at) {
		t.Fatalf("a second revocation moved a session's to %v", got.RevokedAt)
	}
}

func purgeSessions(t *testing.T, s []Stores) {
	ctx := context.Background()
	st := s[0].AuthStore()
	now := base.Add(30 * 24 * time.Hour)
	before := now.Add(-7 * 24 * time.Hour)
	long, recent := before.Add(-time.Hour), before.Add(time.Hour)

	parent := storedKey(t, st, tenantA, "sety_live_9c0000000000000000000000000000c1")
	oldKey := storedKey(t, st, tenantB, "sety_live_9c0000000000000000000000000000c2") // expired at base+24h: long ago
	revokedKey := storedKey(t, st, tenantB, "sety_live_9c0000000000000000000000000000c3")
	_, err := st.RevokeAPIKey(ctx, tenantB, revokedKey.ID, long, nil)
	must(t, err)
	expired := storedSession(t, st, parent, long.Add(-12*time.Hour), long)
	signedOut := storedSession(t, st, parent, long.Add(-time.Hour), now.Add(time.Hour))
	_, err = st.RevokeAPIKey(ctx, tenantA, signedOut.ID, long, nil)
	must(t, err)
	endedOfOther := storedSession(t, st, revokedKey, long.Add(-2*time.Hour), long.Add(-time.Hour))
	goes := []*auth.APIKey{expired, signedOut, endedOfOther}

	lately := storedSession(t, st, parent, recent.Add(-12*time.Hour), recent)
	onTheEdge := storedSession(t, st, parent, before.Add(-12*time.Hour), before) // ended exactly at the cut-off
	revokedLately := storedSession(t, st, parent, long.Add(-time.Hour), now.Add(time.Hour))
	_, err = st.RevokeAPIKey(ctx, tenantA, revokedLately.ID, recent, nil)
	must(t, err)
	active := storedSession(t, st, parent, now.Add(-time.Hour), now.Add(11*time.Hour))
	stays := []*auth.APIKey{parent, oldKey, revokedKey, lately, onTheEdge, revokedLately, active}

	n, err := st.PurgeSessions(ctx, before, 100)
	must(t, err)
	if n != len(goes) {
		t.Fatalf("PurgeSessions deleted %d, want %d", n, len(goes))
	}
	for _, k := range goes {
		if readKey(t, st, k.ID) != nil {
			t.Errorf("ended session %s (expires %v, revoked %v) was kept", k.ID, k.ExpiresAt, readKey(t, st, k.ID).RevokedAt)
		}
		if _, _, err := st.APIKeyByHash(ctx, k.Hash); !setyerr.Is(err, setyerr.NotFound) {
			t.Errorf("purged session %s found by hash: %v", k.ID, err)
		}
	}
	for _, k := range stays {
		if readKey(t, st, k.ID) == nil {
			t.Errorf("%s (%s, expires %v) was purged", k.ID, k.Name, k.ExpiresAt)
		}
	}
	if n, err := st.PurgeSessions(ctx, before, 100); err != nil || n != 0 {
		t.Fatalf("a second PurgeSessions deleted %d, %v", n, err)
	}
	if _, total, _ := st.ListAPIKeys(ctx, tenantA, 0, 100); total != 5 {
		t.Fatalf("%d keys of tenant A left, want the key and its 4 sessions", total)
	}
	// The last use of a purged session, flushed late, changes nothing.
	must(t, st.TouchAPIKeys(ctx, map[string]time.Time{expired.ID: now, active.ID: now}))
	if got := readKey(t, st, active.ID); !got.LastUsedAt.Equal(now) {
		t.Fatalf("last use of the active session %v", got.LastUsedAt)
	}
}

func purgeSessionBatches(t *testing.T, s []Stores) {
	ctx := context.Background()
	st := s[0].AuthStore()
	parent := storedKey(t, st, tenantA, "sety_live_9d0000000000000000000000000000d1")
	for range 5 {
		storedSession(t, st, parent, base, base.Add(time.Hour))
	}
	kept := storedSession(t, st, parent, base, base.Add(48*time.Hour))
	var got []int
	for {
		n, err := st.PurgeSessions(ctx, base.Add(24*time.Hour), 2)
		must(t, err)
		got = append(got, n)
		if n < 2 {
			break
		}
	}
	sameJSON(t, "batches", got, []int{2, 2, 1})
	if readKey(t, st, kept.ID) == nil {
		t.Fatal("the session still running was purged")
	}
}

// purgeSessionsTogether: instances purging at once delete every ended
// session once between them, and neither fails.
func purgeSessionsTogether(t *testing.T, s []Stores) {
	ctx := context.Background()
	parent := storedKey(t, s[0].AuthStore(), tenantA, "sety_live_9e0000000000000000000000000000e1")
	const ended = 40
	for range ended {
		storedSession(t, s[0].AuthStore(), parent, base, base.Add(time.Hour))
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		deleted int
		errs    []error
	)
	for i := range 4 {
		st := s[i%len(s)].AuthStore()
		wg.Go(func() {
			for {
				n, err := st.PurgeSessions(ctx, base.Add(24*time.Hour), 3)
				mu.Lock()
				deleted += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || n < 3 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("purging at once: %v", errs)
	}
	// A purge that found its batch taken by another may stop early: one
	// more pass finishes, and nothing is deleted twice.
	n, err := s[1%len(s)].AuthStore().PurgeSessions(ctx, base.Add(24*time.Hour), 100)
	must(t, err)
	if deleted+n != ended {
		t.Fatalf("deleted %d at once and %d after, want %d in all", deleted, n, ended)
	}
	if _, total, _ := s[0].AuthStore().ListAPIKeys(ctx, tenantA, 0, 10); total != 1 {
		t.Fatalf("%d keys left, want the API key", total)
	}
}

// LegacyKey is an API key row as a store held it before sessions recorded
// the key that started them (auth.APIKey.ParentKeyID): the adapters'
// upgrade tests write LegacySessionKeys so, in their earlier schema, then
// upgrade and call CheckLegacySessionKeys.
type LegacyKey struct {
	ID, Name, Environment, Scopes string    // Scopes as the JSON column holds them
	ExpiresAt                     time.Time // zero: never
}

// LegacyKeysOrg is the organization the legacy keys belong to, created at
// LegacyKeysAt, as the keys are.
const LegacyKeysOrg = "org_0000000000000001"

// LegacyKeysAt is when the legacy keys (and their organization) were made.
var LegacyKeysAt = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

// LegacySessionKeys are an API key, a session of it, and three keys only
// named like sessions of a key: with other scopes, of a key that does not
// exist, and in another environment.
var LegacySessionKeys = []LegacyKey{
	{"key_0000000000000001", "dispatch desk", "live", `["console"]`, time.Time{}},
	{"key_0000000000000002", "Console session of key_0000000000000001", "live", `["console"]`, LegacyKeysAt.Add(12 * time.Hour)},
	{"key_0000000000000003", "Console session of key_0000000000000001", "live", `["*"]`, LegacyKeysAt.Add(12 * time.Hour)},
	{"key_0000000000000004", "Console session of key_0000000000000009", "live", `["console"]`, LegacyKeysAt.Add(12 * time.Hour)},
	{"key_0000000000000005", "Console session of key_0000000000000001", "test", `["console"]`, LegacyKeysAt.Add(12 * time.Hour)},
}

// CheckLegacySessionKeys checks a store upgraded from LegacySessionKeys:
// the session, and only it, has its key as parent, ends when the key is
// revoked, and is purged once ended.
func CheckLegacySessionKeys(t testing.TB, st auth.Store) {
	t.Helper()
	ctx := context.Background()
	for _, k := range LegacySessionKeys {
		want := ""
		if k.ID == "key_0000000000000002" {
			want = "key_0000000000000001"
		}
		got, err := st.GetAPIKey(ctx, k.ID)
		if err != nil || got.Parent() != want {
			t.Fatalf("key %s (%s) after the upgrade: %v, %v; want parent %q", k.ID, k.Name, got, err, want)
		}
	}
	tenant := auth.Tenant{OrgID: LegacyKeysOrg, Env: auth.Live}
	_, err := st.RevokeAPIKey(ctx, tenant, "key_0000000000000001", LegacyKeysAt.Add(time.Hour), nil)
	must(t, err)
	if k := readKey(t, st, "key_0000000000000002"); k.RevokedAt.IsZero() {
		t.Fatal("revoking the key left its session from before the upgrade running")
	}
	if n, err := st.PurgeSessions(ctx, LegacyKeysAt.Add(48*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("PurgeSessions: %d, %v; want the one session", n, err)
	}
}
