package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/ports"
	"github.com/sety-io/sety/setyerr"
)

// Stores is what the suite tests: the stores an adapter gives Sety, and a
// reader of its outbox, which only the suite needs, to check that every
// change commits its events with it.
type Stores interface {
	ports.Stores
	OutboxReader() outbox.Reader
}

// NewStores returns fresh, empty stores for one test; the adapter cleans up
// with tb.Cleanup.
type NewStores func(tb testing.TB) Stores

// Features says what an adapter can do beyond what every adapter must. The
// zero value claims nothing more, and the suite runs the tests every
// adapter passes. A feature exists only where backends truly differ.
type Features struct {
	// Reopen returns a second, independent handle on the database s is
	// over, as another process sharing it would open: its own connections
	// and caches, the same data. The adapter closes it with tb.Cleanup.
	//
	// Nil means the stores cannot be shared by several instances (memory:
	// the data lives in one Go value). When set, each domain also checks
	// that instances sharing one database behave as one: an idempotency key
	// raced from both handles makes one incident; concurrent updates of an
	// incident through both lose none; a responder claimed by concurrent
	// incident updates through both goes to exactly one; both read one
	// access code key, and a code's uses are counted once across both;
	// events committed through either are each fanned out once, by either;
	// a delivery leased through one is not claimed through the other until
	// its lease expires, and then the first owner's FinishAttempt is
	// Conflict; leases taken through either count against the caps of a
	// claim through the other; one incident's deliveries, committed and
	// claimed through both, are claimed one at a time in sequence order;
	// an endpoint paused through one is paused for the other; enabling an
	// endpoint through one resumes what was skipped through the other; and
	// both read one webhook secret key.
	Reopen func(tb testing.TB, s Stores) Stores

	// SharedRateLimits says the stores implement RateLimited: a rate-limit
	// store that every instance over the database shares (SQLite,
	// PostgreSQL). The memory adapter has none: Sety then limits in
	// process, which is the same thing for one process.
	SharedRateLimits bool

	// QueuedCreate says the incident store implements
	// incident.QueueingStore: it looks at the pool in a create's own
	// transaction (memory: under its lock; SQLite: under the write lock).
	// Without it the service looks before and after the commit.
	QueuedCreate bool
}

// Run runs every domain's tests against the adapter newStores builds, each
// as a subtest named after its domain. An adapter's conformance test is one
// call:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newStores, storetest.Features{}) }
func Run(t *testing.T, newStores NewStores, f Features) {
	t.Run("Auth", func(t *testing.T) { TestAuth(t, newStores, f) })
	t.Run("Incidents", func(t *testing.T) { TestIncidents(t, newStores, f) })
	t.Run("Outbox", func(t *testing.T) { TestOutbox(t, newStores, f) })
	t.Run("Dispatch", func(t *testing.T) { TestDispatch(t, newStores, f) })
	t.Run("Webhooks", func(t *testing.T) { TestWebhooks(t, newStores, f) })
	t.Run("Retention", func(t *testing.T) { TestRetention(t, newStores, f) })
	t.Run("Access", func(t *testing.T) { TestAccess(t, newStores, f) })
	t.Run("CancelledContext", func(t *testing.T) { TestCancelledContext(t, newStores, f) })
	if f.SharedRateLimits {
		t.Run("RateLimits", func(t *testing.T) { TestRateLimits(t, newStores, f) })
	}
}

// single returns a parallel test of fn over one handle on a fresh database.
func single(newStores NewStores, fn func(*testing.T, []Stores)) func(*testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		fn(t, []Stores{newStores(t)})
	}
}

// shared returns a parallel test of fn over two handles on one fresh
// database, the second from Features.Reopen; without Reopen it is skipped.
func shared(newStores NewStores, f Features, fn func(*testing.T, []Stores)) func(*testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		if f.Reopen == nil {
			t.Skip("Features.Reopen is nil: these stores cannot be shared by several instances")
		}
		first := newStores(t)
		fn(t, []Stores{first, f.Reopen(t, first)})
	}
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

// pending returns the events s has not published, and fails the test
// unless there are want of them (want < 0: any number).
func pending(t testing.TB, s Stores, want int) []outbox.Event {
	t.Helper()
	events, err := s.OutboxReader().PendingEvents(context.Background(), 1000)
	must(t, err)
	if want >= 0 && len(events) != want {
		t.Fatalf("%d pending events, want %d", len(events), want)
	}
	return events
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
	return func(t testing.TB) Stores {
		stores := newStores(t)
		for _, id := range []string{tenantA.OrgID, tenantB.OrgID} {
			org := &auth.Organization{ID: id, Name: id, Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(base)}
			must(t, stores.AuthStore().CreateOrganization(context.Background(), org))
		}
		return stores
	}
}
