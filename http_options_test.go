package sety_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// The options that change a rule of the services, each seen through the
// API as a client sees it.

// addResponder puts a responder in the pool of h's organization.
func addResponder(t *testing.T, h *harness, id, location string) {
	t.Helper()
	wantStatus(t, h.do(http.MethodPut, "/responders/"+id, h.live, `{"name":"Unit","location":`+location+`}`), http.StatusOK)
}

// incidentOf reads an incident's status and responder after a tick.
func incidentOf(t *testing.T, h *harness, id string) (string, map[string]any) {
	t.Helper()
	inc := wantStatus(t, h.do(http.MethodGet, "/incidents/"+id, h.live, nil), http.StatusOK)["incident"].(map[string]any)
	rsp, _ := inc["responder"].(map[string]any)
	return inc["status"].(string), rsp
}

// WithDispatchRange: a responder 2 km away is out of a 1 km range for an
// SOS (the incident waits in dispatching) and within 5 km for a medical
// incident, per category.
func TestDispatchRangeOption(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, memory.New(), sety.WithDispatchRange(func(_ auth.Tenant, c incident.Category) float64 {
		if c == incident.Medical {
			return 5000
		}
		return 1000
	}))
	addResponder(t, h, "rsp_unit000000000002", "[3.3792,6.5424]") // 2 km north
	sosID := create(t, h, h.live, sos)["incident_id"].(string)
	h.tick(0)
	if status, rsp := incidentOf(t, h, sosID); status != "dispatching" || rsp != nil {
		t.Fatalf("SOS with the only responder 2 km away, range 1 km: %s %v", status, rsp)
	}
	medID := create(t, h, h.live, `{"category":"medical","location":{"coordinates":[3.3792,6.5244]}}`)["incident_id"].(string)
	h.tick(0)
	if status, rsp := incidentOf(t, h, medID); status != "assigned" || rsp["responder_id"] != "rsp_unit000000000002" {
		t.Fatalf("medical incident, range 5 km: %s %v", status, rsp)
	}
}

// farthestFirst is a dispatcher that ranks the pool's farthest responder
// first, the opposite of the built-in nearest-available rule.
type farthestFirst struct {
	responders incident.ResponderStore
	tenant     auth.Tenant
}

func (d farthestFirst) Rank(ctx context.Context, inc *incident.Incident) ([]incident.ResponderAssignment, error) {
	pool, _, err := d.responders.ListResponders(ctx, d.tenant, incident.ResponderFilter{Limit: 100})
	if err != nil {
		return nil, err
	}
	var out []incident.ResponderAssignment
	for _, r := range pool {
		dist := geo.Distance(r.Location, inc.Location.Coordinates)
		a := incident.ResponderAssignment{ResponderID: r.ID, Name: r.Name, Location: r.Location, DistanceMeters: dist, ETASeconds: dist / 10}
		if len(out) > 0 && dist > out[0].DistanceMeters {
			out = append([]incident.ResponderAssignment{a}, out...)
		} else {
			out = append(out, a)
		}
	}
	return out, nil
}

// WithDispatcher replaces the nearest-available rule: the incident goes to
// the responder the host's dispatcher ranks first.
func TestDispatcherOption(t *testing.T) {
	t.Parallel()
	stores := memory.New()
	d := &farthestFirst{responders: stores.ResponderStore()}
	h := newHarnessWith(t, stores, sety.WithDispatcher(d))
	d.tenant = auth.Tenant{OrgID: h.org.ID, Env: auth.Live}
	addResponder(t, h, "rsp_unit000000000001", "[3.3800,6.5250]") // about 110 m
	addResponder(t, h, "rsp_unit000000000002", "[3.3792,6.5424]") // 2 km
	id := create(t, h, h.live, sos)["incident_id"].(string)
	h.tick(0)
	status, rsp := incidentOf(t, h, id)
	if status != "assigned" || rsp["responder_id"] != "rsp_unit000000000002" {
		t.Fatalf("assigned %s %v, want the farther responder", status, rsp)
	}
	if dist := rsp["distance_meters"].(float64); dist < 1900 || dist > 2100 {
		t.Fatalf("distance %v, want the dispatcher's 2 km", dist)
	}
}

// WithSessionTTL: a console session lasts the configured hour, not 12 h.
func TestSessionTTLOption(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, memory.New(), sety.WithSessionTTL(time.Hour))
	session, c := startSession(t, h, h.test)
	if c.MaxAge != 3600 {
		t.Fatalf("cookie max-age %d, want 3600", c.MaxAge)
	}
	h.clock.Advance(time.Hour - time.Millisecond)
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusOK)
	h.clock.Advance(time.Millisecond)
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusUnauthorized)
}

// WithPlanLimits: the organization's plan (growth) allows 2 requests a
// minute, stated in X-RateLimit-Limit; the third is 429.
func TestPlanLimitsOption(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, memory.New(), sety.WithRateLimiter(auth.NewMemoryRateLimiter()),
		sety.WithPlanLimits(map[auth.Plan]int{auth.Starter: 1, auth.Growth: 2, auth.Enterprise: 3}))
	for i := range 2 {
		rec := h.do(http.MethodGet, "/incidents", h.live, nil)
		wantStatus(t, rec, http.StatusOK)
		if got := rec.Header().Get("X-RateLimit-Limit"); got != "2" {
			t.Fatalf("request %d: X-RateLimit-Limit %q, want 2", i+1, got)
		}
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusTooManyRequests, "2 requests per minute")
	h.clock.Advance(time.Minute)
	wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)
}
