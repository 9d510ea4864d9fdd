package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

func newKey(t testing.TB, tenant auth.Tenant, secret string) *auth.APIKey {
	return &auth.APIKey{
		ID: fixtureID(t, "key"), OrgID: tenant.OrgID, Name: "ci", Environment: tenant.Env,
		Prefix: secret[:14], Scopes: []auth.Scope{auth.IncidentsRead, auth.IncidentsWrite},
		Hash: auth.HashKey(secret), CreatedAt: clock.At(base), ExpiresAt: clock.At(base.Add(24 * time.Hour)),
	}
}

// storedKey creates a key of tenant for secret in st.
func storedKey(t *testing.T, st auth.Store, tenant auth.Tenant, secret string) *auth.APIKey {
	key := newKey(t, tenant, secret)
	must(t, st.CreateAPIKey(context.Background(), key))
	return key
}

// TestAuth checks the auth store: organizations, API keys by hash (with
// their organization, in one read), tenant-scoped revocation (the first
// revocation time wins), listing and last use; and the keys of console
// sessions: their parent key, the revocation's cascade to them, and the
// purge of ended ones (across instances with Features.Reopen).
func TestAuth(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStores, f) })

	t.Run("Organizations", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AuthStore()
		n, err := st.CountOrganizations(ctx)
		must(t, err)
		if n != 2 {
			t.Fatalf("seeded store has %d organizations, want 2", n)
		}
		org := &auth.Organization{ID: "org_cccccccccccccccc", Name: "Ride 'n' Go; --", Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(base)}
		must(t, st.CreateOrganization(ctx, org))
		wantKind(t, st.CreateOrganization(ctx, org), setyerr.Conflict)
		got, err := st.GetOrganization(ctx, org.ID)
		must(t, err)
		sameJSON(t, "organization", got, org)
		got.Status = auth.Suspended
		got.Plan = auth.Enterprise
		must(t, st.UpdateOrganization(ctx, got))
		again, err := st.GetOrganization(ctx, org.ID)
		must(t, err)
		sameJSON(t, "updated organization", again, got)
		_, err = st.GetOrganization(ctx, "org_dddddddddddddddd")
		wantKind(t, err, setyerr.NotFound)
		wantKind(t, st.UpdateOrganization(ctx, &auth.Organization{ID: "org_dddddddddddddddd"}), setyerr.NotFound)
		if n, _ := st.CountOrganizations(ctx); n != 3 {
			t.Fatalf("CountOrganizations = %d, want 3", n)
		}
		list, total, err := st.ListOrganizations(ctx, 0, 2)
		must(t, err)
		// All three share created_at, so they come by id: the seeded two first.
		if total != 3 || len(list) != 2 || list[0].ID != tenantA.OrgID || list[1].ID != tenantB.OrgID {
			t.Fatalf("ListOrganizations(0, 2) = %v of %d", list, total)
		}
		list, total, err = st.ListOrganizations(ctx, 2, 2)
		must(t, err)
		if total != 3 || len(list) != 1 {
			t.Fatalf("ListOrganizations(2, 2) = %v of %d, want the third", list, total)
		}
		sameJSON(t, "the last page's organization", list[0], again)
		if list, total, err := st.ListOrganizations(ctx, 3, 2); err != nil || total != 3 || len(list) != 0 {
			t.Fatalf("ListOrganizations past the end = %v of %d, %v", list, total, err)
		}
	})

	// An operator reads any tenant's key by its id alone.
	t.Run("KeyByID", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AuthStore()
		live := storedKey(t, st, tenantA, "sety_live_c3f9c2d18e4b7a6509c1d2e3f4a5b6c7")
		test := storedKey(t, st, tenantATest, "sety_test_c3f9c2d18e4b7a6509c1d2e3f4a5b6c7")
		for _, want := range []*auth.APIKey{live, test} {
			got, err := st.GetAPIKey(ctx, want.ID)
			must(t, err)
			sameJSON(t, "key by id", got, want)
			if got.OrgID != want.OrgID || got.Environment != want.Environment {
				t.Fatalf("key %s belongs to %s/%s, want %s/%s", got.ID, got.OrgID, got.Environment, want.OrgID, want.Environment)
			}
			got.Scopes[0] = auth.All
		}
		again, err := st.GetAPIKey(ctx, live.ID)
		must(t, err)
		sameJSON(t, "key after mutating a read", again, live)
		_, err = st.GetAPIKey(ctx, "key_0000000000000000")
		wantKind(t, err, setyerr.NotFound)
	})

	t.Run("KeysByHash", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AuthStore()
		secret := "sety_live_a3f9c2d18e4b7a6509c1d2e3f4a5b6c7"
		key := storedKey(t, st, tenantA, secret)
		org, err := st.GetOrganization(ctx, tenantA.OrgID)
		must(t, err)
		got, gotOrg, err := st.APIKeyByHash(ctx, auth.HashKey(secret))
		must(t, err)
		sameJSON(t, "key", got, key)
		sameJSON(t, "organization of the key", gotOrg, org)
		got.Scopes[0] = auth.All
		gotOrg.Status = auth.Suspended
		again, againOrg, _ := st.APIKeyByHash(ctx, auth.HashKey(secret))
		sameJSON(t, "key after mutating a read", again, key)
		sameJSON(t, "organization after mutating a read", againOrg, org)
		// The organization is read with the key: its changes show at once.
		org.Status, org.Plan = auth.Suspended, auth.Starter
		must(t, st.UpdateOrganization(ctx, org))
		_, gotOrg, err = st.APIKeyByHash(ctx, auth.HashKey(secret))
		must(t, err)
		sameJSON(t, "organization after an update", gotOrg, org)

		_, _, err = st.APIKeyByHash(ctx, auth.HashKey("sety_live_00000000000000000000000000000000"))
		wantKind(t, err, setyerr.NotFound)
		dup := newKey(t, tenantA, secret)
		wantKind(t, st.CreateAPIKey(ctx, dup), setyerr.Conflict)
		orphan := newKey(t, auth.Tenant{OrgID: "org_dddddddddddddddd", Env: auth.Live}, "sety_live_10000000000000000000000000000000")
		if err := st.CreateAPIKey(ctx, orphan); err == nil {
			t.Fatal("a key of an organization that does not exist was stored")
		}
	})

	t.Run("RevokeIsTenantScopedAndFirstWins", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AuthStore()
		secret := "sety_test_b3f9c2d18e4b7a6509c1d2e3f4a5b6c7"
		key := storedKey(t, st, tenantATest, secret)
		for _, other := range []auth.Tenant{tenantA, tenantB} {
			_, err := st.RevokeAPIKey(ctx, other, key.ID, base, nil)
			wantKind(t, err, setyerr.NotFound)
		}
		// A refusal from allow, which sees the stored key, writes nothing.
		var seen *auth.APIKey
		_, err := st.RevokeAPIKey(ctx, tenantATest, key.ID, base, func(k *auth.APIKey) error {
			seen = k
			return setyerr.E(setyerr.Forbidden, "no")
		})
		wantKind(t, err, setyerr.Forbidden)
		if seen == nil || seen.ID != key.ID || len(seen.Scopes) != len(key.Scopes) {
			t.Fatalf("allow saw %+v, want the stored key", seen)
		}
		if k, _, _ := st.APIKeyByHash(ctx, auth.HashKey(secret)); !k.RevokedAt.IsZero() {
			t.Fatal("a refused revocation was written")
		}
		first := base.Add(time.Hour)
		got, err := st.RevokeAPIKey(ctx, tenantATest, key.ID, first, nil)
		must(t, err)
		if !got.RevokedAt.Equal(first) {
			t.Fatalf("revoked_at = %v, want %v", got.RevokedAt, first)
		}
		got, err = st.RevokeAPIKey(ctx, tenantATest, key.ID, first.Add(time.Hour), nil)
		must(t, err)
		if !got.RevokedAt.Equal(first) {
			t.Fatalf("second revoke moved revoked_at to %v", got.RevokedAt)
		}
		byHash, _, err := st.APIKeyByHash(ctx, auth.HashKey(secret))
		must(t, err)
		if !byHash.RevokedAt.Equal(first) {
			t.Fatal("revocation not visible by hash")
		}
	})

	t.Run("ListAndTouchKeys", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AuthStore()
		older := newKey(t, tenantA, "sety_live_00000000000000000000000000000001")
		newer := newKey(t, tenantA, "sety_live_00000000000000000000000000000002")
		newer.CreatedAt = clock.At(base.Add(time.Minute))
		other := newKey(t, tenantATest, "sety_test_00000000000000000000000000000003")
		for _, k := range []*auth.APIKey{older, newer, other} {
			must(t, st.CreateAPIKey(ctx, k))
		}
		list, total, err := st.ListAPIKeys(ctx, tenantA, 0, 10)
		must(t, err)
		if total != 2 || list[0].ID != newer.ID || list[1].ID != older.ID {
			t.Fatalf("keys: %d %v", total, list)
		}
		used := base.Add(time.Hour)
		must(t, st.TouchAPIKeys(ctx, map[string]time.Time{older.ID: used, "key_unknown000000000": used}))
		must(t, st.TouchAPIKeys(ctx, map[string]time.Time{older.ID: base})) // older news never moves it back
		got, _, err := st.APIKeyByHash(ctx, older.Hash)
		must(t, err)
		if !got.LastUsedAt.Equal(used) {
			t.Fatalf("last_used_at %v, want %v", got.LastUsedAt, used)
		}
	})
}
