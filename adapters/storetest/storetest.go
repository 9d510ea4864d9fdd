package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// NewStores returns fresh, empty stores for one test; the adapter cleans up
// with t.Cleanup.
type NewStores func(tb testing.TB) sety.Stores

// Run runs the whole suite against the adapter newStores builds.
func Run(t *testing.T, newStores NewStores) {
	newStores = seeded(newStores)
	t.Run("Auth", func(t *testing.T) { testAuth(t, newStores) })
	t.Run("Incidents", func(t *testing.T) { testIncidents(t, newStores) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, newStores) })
	t.Run("Dispatch", func(t *testing.T) { testDispatch(t, newStores) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, newStores) })
	t.Run("Access", func(t *testing.T) { testAccess(t, newStores) })
}

// base is the time fixtures start at; stored times are UTC milliseconds.
var base = time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)

var (
	tenantA     = auth.Tenant{OrgID: "org_aaaaaaaaaaaaaaaa", Env: auth.Live}
	tenantATest = auth.Tenant{OrgID: "org_aaaaaaaaaaaaaaaa", Env: auth.Test}
	tenantB     = auth.Tenant{OrgID: "org_bbbbbbbbbbbbbbbb", Env: auth.Live}
)

func wantKind(t testing.TB, err error, k setyerr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", k)
	}
	if got := setyerr.KindOf(err); got != k {
		t.Fatalf("err = %v (kind %v), want kind %v", err, got, k)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameJSON fails unless got and want are deeply equal, showing both as JSON.
func sameJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("%s differs:\ngot  %s\nwant %s", what, g, w)
	}
}

var (
	mu        sync.Mutex
	idCounter = map[string]int{}
)

// fixtureID returns a well-formed id unique within the test process.
func fixtureID(t testing.TB, prefix string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	idCounter[prefix]++
	return fmt.Sprintf("%s_%016d", prefix, idCounter[prefix])
}

// seeded wraps newStores so every test starts with the organizations of
// tenantA and tenantB, which keys and incidents refer to.
func seeded(newStores NewStores) NewStores {
	return func(t testing.TB) sety.Stores {
		stores := newStores(t)
		for _, id := range []string{tenantA.OrgID, tenantB.OrgID} {
			org := &auth.Organization{ID: id, Name: id, Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(base)}
			must(t, stores.AuthStore().CreateOrganization(context.Background(), org))
		}
		return stores
	}
}
