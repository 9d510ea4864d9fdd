package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

var start = time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC)

func setup(t *testing.T) (*auth.Service, *clock.Fake, *auth.Organization) {
	t.Helper()
	clk := clock.NewFake(start)
	svc := auth.NewService(memory.New().AuthStore(), auth.Config{Now: clk.Now})
	org, err := svc.CreateOrganization(context.Background(), "Acme Rides", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	return svc, clk, org
}

func TestIssueAndAuthenticate(t *testing.T) {
	svc, _, org := setup(t)
	ctx := context.Background()
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Test}
	key, secret, err := svc.IssueKey(ctx, tenant, auth.KeySpec{Name: "ci", Scopes: []auth.Scope{auth.IncidentsRead}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "sety_test_") || len(secret) != len("sety_test_")+32 || key.Prefix != secret[:14] {
		t.Fatalf("secret %q prefix %q", secret, key.Prefix)
	}
	if string(key.Hash) == secret || strings.Contains(string(key.Hash), secret[10:]) {
		t.Fatal("the key's secret is stored")
	}
	p, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != tenant || p.KeyID != key.ID || !p.Can(auth.IncidentsRead) || p.Can(auth.IncidentsWrite) {
		t.Fatalf("principal %+v", p)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	svc, clk, org := setup(t)
	ctx := context.Background()
	live := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	_, good, _ := svc.IssueKey(ctx, live, auth.KeySpec{Name: "good", Scopes: []auth.Scope{auth.All}})
	expiring, expSecret, _ := svc.IssueKey(ctx, live, auth.KeySpec{Name: "exp", Scopes: []auth.Scope{auth.All}, ExpiresAt: start.Add(time.Hour)})
	revoked, revSecret, _ := svc.IssueKey(ctx, live, auth.KeySpec{Name: "rev", Scopes: []auth.Scope{auth.All}})
	if _, err := svc.RevokeKey(ctx, live, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_ = expiring

	unauthenticated := []string{
		"",
		"sety_live_",
		"sety_live_A3F9C2D18E4B7A6509C1D2E3F4A5B6C7",           // upper case
		"sety_live_a3f9c2d18e4b7a6509c1d2e3f4a5b6c",            // 31 chars
		"sety_prod_a3f9c2d18e4b7a6509c1d2e3f4a5b6c7",           // unknown environment
		"sety_live_a3f9c2d18e4b7a6509c1d2e3f4a5b6c7",           // well-formed, unknown
		"sety_test_" + good[10:],                               // right secret, wrong environment
		good + " ",                                             // trailing junk
		revSecret,                                              // revoked
		strings.Repeat("x", 10000),                             // huge
		"sety_live_a3f9c2d18e4b7a6509c1d2e3f4a5b6c7'; DROP --", // SQL
	}
	for _, raw := range unauthenticated {
		if _, err := svc.Authenticate(ctx, raw); setyerr.KindOf(err) != setyerr.Unauthenticated {
			t.Errorf("Authenticate(%.40q) = %v, want Unauthenticated", raw, err)
		}
	}
	if _, err := svc.Authenticate(ctx, expSecret); err != nil {
		t.Fatalf("key before expiry: %v", err)
	}
	clk.Advance(time.Hour)
	if _, err := svc.Authenticate(ctx, expSecret); setyerr.KindOf(err) != setyerr.Unauthenticated {
		t.Fatalf("key at expiry: %v, want Unauthenticated", err)
	}
	if _, err := svc.SetOrganizationStatus(ctx, org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, good); setyerr.KindOf(err) != setyerr.PaymentRequired {
		t.Fatalf("suspended org: %v, want PaymentRequired", err)
	}
}

func TestIssueKeyValidation(t *testing.T) {
	svc, _, org := setup(t)
	ctx := context.Background()
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	tests := []struct {
		field string
		spec  auth.KeySpec
	}{
		{"name", auth.KeySpec{Name: " ", Scopes: []auth.Scope{auth.All}}},
		{"name", auth.KeySpec{Name: strings.Repeat("n", 101), Scopes: []auth.Scope{auth.All}}},
		{"scopes", auth.KeySpec{Name: "k"}},
		{"scopes", auth.KeySpec{Name: "k", Scopes: []auth.Scope{"incidents:delete"}}},
		{"expires_at", auth.KeySpec{Name: "k", Scopes: []auth.Scope{auth.All}, ExpiresAt: start}},
	}
	for _, tt := range tests {
		_, _, err := svc.IssueKey(ctx, tenant, tt.spec)
		if setyerr.KindOf(err) != setyerr.Invalid || !strings.HasPrefix(err.Error(), tt.field) {
			t.Errorf("IssueKey(%+v) = %v, want Invalid naming %s", tt.spec, err, tt.field)
		}
	}
	if _, err := svc.ImportKey(ctx, tenant, auth.KeySpec{Name: "k", Scopes: []auth.Scope{auth.All}}, "sety_test_a3f9c2d18e4b7a6509c1d2e3f4a5b6c7"); setyerr.KindOf(err) != setyerr.Invalid {
		t.Fatalf("importing a test key as live: %v, want Invalid", err)
	}
}

// An operator finds any tenant's key by its id alone and revokes it in its
// tenant; pages through every organization; and suspends one by id.
func TestOperatorAdministersEveryTenant(t *testing.T) {
	svc, clk, org := setup(t)
	ctx := context.Background()
	clk.Advance(time.Second) // created after org: second, oldest first
	other, err := svc.CreateOrganization(ctx, "Other Rides", auth.Starter)
	if err != nil {
		t.Fatal(err)
	}
	key, secret, _ := svc.IssueKey(ctx, auth.Tenant{OrgID: other.ID, Env: auth.Test}, auth.KeySpec{Name: "ci", Scopes: []auth.Scope{auth.All}})
	if _, err := svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Key(ctx, key.ID)
	if err != nil || got.Tenant() != key.Tenant() {
		t.Fatalf("Key(%s) = %+v, %v", key.ID, got, err)
	}
	if _, err := svc.RevokeKey(ctx, got.Tenant(), got.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, secret); !setyerr.Is(err, setyerr.Unauthenticated) {
		t.Fatalf("a revoked key authenticated: %v", err)
	}
	for _, id := range []string{"key_0000000000000000", "not a key id", ""} {
		if _, err := svc.Key(ctx, id); !setyerr.Is(err, setyerr.NotFound) {
			t.Fatalf("Key(%q): %v, want NotFound", id, err)
		}
	}
	page, total, err := svc.Organizations(ctx, 1, 10)
	if err != nil || total != 2 || len(page) != 1 || page[0].ID != other.ID {
		t.Fatalf("second page: %v of %d, %v", page, total, err)
	}
	if _, err := svc.SetOrganizationStatus(ctx, "org_0000000000000000", auth.Suspended); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("suspending an unknown organization: %v", err)
	}
	if o, err := svc.SetOrganizationStatus(ctx, org.ID, auth.Suspended); err != nil || o.Status != auth.Suspended {
		t.Fatalf("suspend: %+v %v", o, err)
	}
}
