package sety_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/setyerr"
)

// outage wraps an adapter's stores to fail as storage does in an outage:
// with lostCommit set, the next incident create commits and is still
// reported unavailable (the connection dropped after COMMIT); with down
// set, reading a key fails.
type outage struct {
	storetest.Stores
	lostCommit atomic.Bool
	down       atomic.Bool
}

var errOutage = setyerr.Wrap(setyerr.Unavailable, errors.New("connection reset by peer"), "storage unavailable")

func (o *outage) IncidentStore() incident.Store { return lostCommits{o.Stores.IncidentStore(), o} }
func (o *outage) AuthStore() auth.Store         { return authOutage{o.Stores.AuthStore(), o} }

type lostCommits struct {
	incident.Store
	o *outage
}

func (l lostCommits) CreateIncident(ctx context.Context, inc *incident.Incident, fx incident.Effects) (*incident.Incident, bool, error) {
	stored, created, err := l.Store.CreateIncident(ctx, inc, fx)
	if err == nil && l.o.lostCommit.CompareAndSwap(true, false) {
		return nil, false, errOutage
	}
	return stored, created, err
}

type authOutage struct {
	auth.Store
	o *outage
}

func (a authOutage) APIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.Organization, error) {
	if a.o.down.Load() {
		return nil, nil, errOutage
	}
	return a.Store.APIKeyByHash(ctx, hash)
}

// Storage that fails answers 503 "storage unavailable" with Retry-After,
// whether a handler or the authentication in front of it met the failure,
// and a create that committed before its answer was lost is never made
// twice by the client's retries with its idempotency key.
func TestStorageOutages(t *testing.T) {
	t.Run("memory", func(t *testing.T) { t.Parallel(); testStorageOutages(t, memory.New()) })
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); testStorageOutages(t, newSQLiteHarness(t).stores) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); testStorageOutages(t, openPostgres(t)) })
}

func testStorageOutages(t *testing.T, stores storetest.Stores) {
	o := &outage{Stores: stores}
	h := newHarness(t, o)
	retryAfter := strconv.Itoa(setyerr.UnavailableRetryAfter)
	body := `{"category":"sos","idempotency_key":"trip_503","location":{"coordinates":[3.3792,6.5244]}}`

	o.lostCommit.Store(true)
	rec := h.do(http.MethodPost, "/incidents", h.live, body)
	wantStatus(t, rec, http.StatusServiceUnavailable, "storage unavailable")
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %s", got, retryAfter)
	}
	// The client retries, twice at once; each gets the incident the lost
	// answer was about.
	var wg sync.WaitGroup
	ids := make([]string, 3)
	for i := range 3 {
		wg.Go(func() {
			rec := h.do(http.MethodPost, "/incidents", h.live, body)
			if rec.Code != http.StatusOK {
				t.Errorf("retry %d: %d %s, want 200 (the incident exists)", i, rec.Code, rec.Body.String())
				return
			}
			got := decode(t, rec)
			if got["idempotent"] != true {
				t.Errorf("retry %d: %v, want idempotent", i, got)
			}
			ids[i] = got["incident"].(map[string]any)["incident_id"].(string)
		})
	}
	wg.Wait()
	if ids[0] == "" || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Fatalf("retries answered incidents %v, want one", ids)
	}
	list := wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)
	if total := list["pagination"].(map[string]any)["total"]; total != 1.0 {
		t.Fatalf("%v incidents after a lost answer and its retries, want 1", total)
	}

	// A key not yet cached meets storage that is down while authenticating.
	fresh := h.key(h.org, auth.Live, auth.All)
	o.down.Store(true)
	rec = h.do(http.MethodGet, "/incidents", fresh, nil)
	wantStatus(t, rec, http.StatusServiceUnavailable, "storage unavailable")
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Fatalf("authentication: Retry-After %q, want %s", got, retryAfter)
	}
	o.down.Store(false)
	wantStatus(t, h.do(http.MethodGet, "/incidents", fresh, nil), http.StatusOK)
}
