package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

var t0 = time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC)

// receiver is a local endpoint that records what it gets and answers with
// the statuses it is given (the last one repeats).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status = r.statuses[min(len(r.got), len(r.statuses))-1]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "status %d", status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	stores sety.Stores
	s      *sety.Sety
	live   auth.Tenant
	test   auth.Tenant
}

func newFixture(t *testing.T, stores sety.Stores) *fixture {
	f := &fixture{t: t, ctx: context.Background(), clk: clock.NewFake(t0), stores: stores}
	f.s = f.restart()
	org, err := f.s.Auth.CreateOrganization(f.ctx, "Acme", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	f.live, f.test = auth.Tenant{OrgID: org.ID, Env: auth.Live}, auth.Tenant{OrgID: org.ID, Env: auth.Test}
	return f
}

// restart builds Sety anew over the same stores, as a restarted process.
func (f *fixture) restart() *sety.Sety { return f.instance(webhook.Config{}) }

// instance builds Sety over f's stores and clock, as a process configured
// with hooks and opts: hooks may target the tests' local receivers (plain
// http on loopback).
func (f *fixture) instance(hooks webhook.Config, opts ...sety.Option) *sety.Sety {
	f.t.Helper()
	hooks.AllowPrivate, hooks.AllowInsecure = true, true
	opts = append(append([]sety.Option{sety.WithClock(f.clk.Now)}, opts...), sety.WithWebhooks(hooks))
	s, err := sety.New(f.stores, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) endpoint(tenant auth.Tenant, url string, events ...string) (*webhook.Endpoint, string) {
	f.t.Helper()
	e, secret, err := f.s.Webhooks.CreateEndpoint(f.ctx, tenant, webhook.CreateEndpointRequest{URL: url, Events: events})
	if err != nil {
		f.t.Fatal(err)
	}
	return e, secret
}

func (f *fixture) incident(tenant auth.Tenant) *incident.Incident {
	f.t.Helper()
	inc, _, err := f.s.Incidents.Create(f.ctx, tenant, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.5, 3.4)}})
	if err != nil {
		f.t.Fatal(err)
	}
	return inc
}

// tick moves the clock and runs the worker once.
func (f *fixture) tick(d time.Duration) int {
	f.t.Helper()
	f.clk.Advance(d)
	n, err := f.s.Webhooks.Tick(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// tickAtOnce runs one Tick of every worker, all at once, as instances
// sharing the store would.
func (f *fixture) tickAtOnce(t *testing.T, workers []*sety.Sety) {
	t.Helper()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			if _, err := w.Webhooks.Tick(f.ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func (f *fixture) deliveries(tenant auth.Tenant, e *webhook.Endpoint) []*webhook.Delivery {
	f.t.Helper()
	ds, _, err := f.s.Webhooks.Deliveries(f.ctx, tenant, e.ID, "", 0, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

// firstAttempt registers a live endpoint for events that answers status,
// creates a live incident and ticks once, so the first attempt is made.
func (f *fixture) firstAttempt(status int, events ...string) (*receiver, *webhook.Endpoint) {
	r := newReceiver(f.t, status)
	e, _ := f.endpoint(f.live, r.URL, events...)
	f.incident(f.live)
	f.tick(0)
	return r, e
}

func TestDeliversSignedEvents(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, secret := f.endpoint(f.live, r.URL, "incident.*")
	inc := f.incident(f.live)
	if _, err := f.s.Incidents.Cancel(f.ctx, f.live, inc.ID, incident.CancelIncidentRequest{Reason: "safe"}); err != nil {
		t.Fatal(err)
	}
	if n := f.tick(0); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	got := r.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests", len(got))
	}
	for i, want := range []string{"incident.created", "incident.dispatching", "incident.cancelled"} {
		req := got[i]
		if err := webhook.Verify(secret, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); err != nil {
			t.Fatalf("request %d does not verify: %v", i, err)
		}
		var p struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Sequence int64  `json:"sequence"`
			Data     struct {
				Incident struct {
					ID     string `json:"incident_id"`
					Status string `json:"status"`
				} `json:"incident"`
			} `json:"data"`
			CreatedAt string `json:"created_at"`
		}
		if err := json.Unmarshal(req.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != want || p.Sequence != int64(i+1) || p.Data.Incident.ID != inc.ID || req.header.Get("webhook-id") != p.ID ||
			req.header.Get("Content-Type") != "application/json" || p.CreatedAt != "2026-03-10T14:22:05.000Z" {
			t.Fatalf("request %d: %+v headers %v", i, p, req.header)
		}
	}
	for _, d := range f.deliveries(f.live, e) {
		if d.Status != webhook.Succeeded || d.Attempts != 1 || *d.ResponseStatus != 200 || *d.ResponseBody != "status 200" || !d.NextAttemptAt.IsZero() {
			t.Fatalf("delivery %+v", d)
		}
	}
	if n := f.tick(time.Hour); n != 0 {
		t.Fatalf("%d attempts after success", n)
	}
}

func TestFiltersAndTenantIsolation(t *testing.T) {
	f := newFixture(t, memory.New())
	cancels, everything, sandbox := newReceiver(t), newReceiver(t), newReceiver(t)
	f.endpoint(f.live, cancels.URL, "incident.cancelled")
	f.endpoint(f.live, everything.URL, "*")
	f.endpoint(f.test, sandbox.URL, "incident.*")
	otherOrg, _ := f.s.Auth.CreateOrganization(f.ctx, "Other", auth.Starter)
	stranger := newReceiver(t)
	f.endpoint(auth.Tenant{OrgID: otherOrg.ID, Env: auth.Live}, stranger.URL, "*")

	inc := f.incident(f.live)
	f.s.Incidents.AddNote(f.ctx, f.live, inc.ID, "hi")
	f.s.Incidents.Cancel(f.ctx, f.live, inc.ID, incident.CancelIncidentRequest{})
	f.incident(f.test)
	f.tick(0)
	count := map[string]int{"cancels": len(cancels.requests()), "everything": len(everything.requests()), "sandbox": len(sandbox.requests()), "stranger": len(stranger.requests())}
	want := map[string]int{"cancels": 1, "everything": 4, "sandbox": 1, "stranger": 0} // everything: created, dispatching, note, cancelled
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Fatalf("requests %v, want %v", count, want)
	}
}

func TestEveryRetryStepThenFailed(t *testing.T) {
	f := newFixture(t, memory.New())
	r, e := f.firstAttempt(http.StatusInternalServerError, "incident.created")
	for i, wait := range webhook.DefaultRetrySchedule() {
		d := f.deliveries(f.live, e)[0]
		if d.Status != webhook.Pending || d.Attempts != i+1 || !d.NextAttemptAt.Equal(f.clk.Now().Add(wait)) || *d.ResponseStatus != 500 {
			t.Fatalf("after attempt %d: %+v", i+1, d)
		}
		if n := f.tick(wait - time.Millisecond); n != 0 {
			t.Fatalf("attempt %d came early", i+2)
		}
		if n := f.tick(time.Millisecond); n != 1 {
			t.Fatalf("attempt %d did not come after %v", i+2, wait)
		}
	}
	d := f.deliveries(f.live, e)[0]
	if d.Status != webhook.Failed || d.Attempts != 8 || !d.NextAttemptAt.IsZero() || len(r.requests()) != 8 {
		t.Fatalf("after the schedule: %+v, %d requests", d, len(r.requests()))
	}
	if n := f.tick(100 * time.Hour); n != 0 {
		t.Fatal("a failed delivery was attempted again")
	}
	// Redelivery sends the same event again, with the same webhook-id.
	re, err := f.s.Webhooks.Redeliver(f.ctx, f.live, e.ID, d.ID)
	if err != nil || re.ID == d.ID || re.Status != webhook.Pending {
		t.Fatalf("redeliver: %+v %v", re, err)
	}
	r.statuses = []int{http.StatusOK}
	f.tick(0)
	got := r.requests()
	if len(got) != 9 || got[8].header.Get("webhook-id") != got[0].header.Get("webhook-id") {
		t.Fatalf("redelivery: %d requests", len(got))
	}
	if _, err := f.s.Webhooks.Redeliver(f.ctx, f.test, e.ID, d.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("redelivery from another environment: %v", err)
	}
}

func TestRedirectAndTimeoutAreFailures(t *testing.T) {
	f := newFixture(t, memory.New())
	_, e := f.firstAttempt(http.StatusFound, "incident.created")
	if d := f.deliveries(f.live, e)[0]; d.Status != webhook.Pending || *d.ResponseStatus != 302 {
		t.Fatalf("3xx: %+v", d)
	}
	// A transport that times out at once stands in for a slow receiver.
	s := f.instance(webhook.Config{Transport: roundTrip(func(*http.Request) (*http.Response, error) { return nil, timeoutErr{} })})
	f.clk.Advance(5 * time.Second)
	if _, err := s.Webhooks.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	d := f.deliveries(f.live, e)[0]
	if d.Status != webhook.Pending || d.Attempts != 2 || d.ResponseStatus != nil || d.Error == nil || *d.Error != "timed out" {
		t.Fatalf("timeout: %+v", d)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestGoneDisablesTheEndpoint(t *testing.T) {
	f := newFixture(t, memory.New())
	r, e := f.firstAttempt(http.StatusGone, "incident.created")
	got, _ := f.s.Webhooks.Endpoint(f.ctx, f.live, e.ID)
	if got.Status != webhook.Disabled || got.DisabledReason == nil || !strings.Contains(*got.DisabledReason, "410") {
		t.Fatalf("endpoint after 410: %+v", got)
	}
	if d := f.deliveries(f.live, e)[0]; d.Status != webhook.Failed {
		t.Fatalf("delivery after 410: %+v", d)
	}
	// While disabled, events are recorded as skipped deliveries, not sent.
	f.incident(f.live)
	f.tick(time.Hour)
	skipped, _, err := f.s.Webhooks.Deliveries(f.ctx, f.live, e.ID, webhook.Skipped, 0, 10)
	if err != nil || len(skipped) != 1 || len(r.requests()) != 1 || len(f.deliveries(f.live, e)) != 2 {
		t.Fatalf("a disabled endpoint: %d requests, skipped %v %v", len(r.requests()), skipped, err)
	}
	if d := skipped[0]; d.Attempts != 0 || !d.NextAttemptAt.IsZero() {
		t.Fatalf("skipped delivery %+v", d)
	}
	// Enabling again clears the reason and sends what was skipped.
	r.statuses = []int{http.StatusOK}
	on := webhook.Enabled
	got, err = f.s.Webhooks.UpdateEndpoint(f.ctx, f.live, e.ID, webhook.UpdateEndpointRequest{Status: &on})
	if err != nil || got.Status != webhook.Enabled || got.DisabledReason != nil {
		t.Fatalf("re-enable: %+v %v", got, err)
	}
	if n := f.tick(0); n != 1 || len(r.requests()) != 2 {
		t.Fatalf("after re-enabling: %d attempts, %d requests; want the skipped event sent", n, len(r.requests()))
	}
	if ds, _, _ := f.s.Webhooks.Deliveries(f.ctx, f.live, e.ID, webhook.Succeeded, 0, 10); len(ds) != 1 || ds[0].ID != skipped[0].ID {
		t.Fatalf("succeeded after re-enabling: %v, want the skipped delivery", ds)
	}
}

// Events skipped while an endpoint was disabled are sent when it is
// enabled again within ResumeWindow (72 h) of them, in order; older ones
// stay skipped, and a retry sends them.
func TestReenablingSendsWhatWasSkippedWithinTheWindow(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, _ := f.endpoint(f.live, r.URL, "incident.created", "incident.note_added")
	off, on := webhook.Disabled, webhook.Enabled
	if _, err := f.s.Webhooks.UpdateEndpoint(f.ctx, f.live, e.ID, webhook.UpdateEndpointRequest{Status: &off}); err != nil {
		t.Fatal(err)
	}
	old := f.incident(f.live)
	f.tick(time.Hour)
	f.clk.Advance(72 * time.Hour)
	recent := f.incident(f.live)
	if _, err := f.s.Incidents.AddNote(f.ctx, f.live, recent.ID, "on the way"); err != nil {
		t.Fatal(err)
	}
	if n := f.tick(time.Minute); n != 0 || len(r.requests()) != 0 {
		t.Fatalf("while disabled: %d attempts", n)
	}
	if _, err := f.s.Webhooks.UpdateEndpoint(f.ctx, f.live, e.ID, webhook.UpdateEndpointRequest{Status: &on}); err != nil {
		t.Fatal(err)
	}
	if n := f.tick(0); n != 2 {
		t.Fatalf("after re-enabling: %d attempts, want the 2 events of the last 72 h", n)
	}
	var got []string
	for _, req := range r.requests() {
		ev := decodeEvent(t, req.body)
		got = append(got, fmt.Sprintf("%s#%d", ev.Type, ev.Sequence))
	}
	if want := "[incident.created#1 incident.note_added#3]"; fmt.Sprint(got) != want {
		t.Fatalf("sent %v, want %v", got, want)
	}
	skipped, _, _ := f.s.Webhooks.Deliveries(f.ctx, f.live, e.ID, webhook.Skipped, 0, 10)
	if len(skipped) != 1 {
		t.Fatalf("%d skipped, want the old incident's event", len(skipped))
	}
	if _, err := f.s.Webhooks.Redeliver(f.ctx, f.live, e.ID, skipped[0].ID); err != nil {
		t.Fatal(err)
	}
	f.tick(0)
	if ev := decodeEvent(t, r.requests()[2].body); ev.Data.Incident.ID != old.ID {
		t.Fatalf("the retry sent %+v, want the old incident's event", ev)
	}
}

func TestFiveDaysOfFailureDisable(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t, http.StatusServiceUnavailable)
	e, _ := f.endpoint(f.live, r.URL, "incident.created")
	disabledAfter := time.Duration(0)
	for elapsed := time.Duration(0); elapsed <= 6*24*time.Hour; elapsed += time.Hour {
		if elapsed%(12*time.Hour) == 0 {
			f.incident(f.live) // new events keep arriving
		}
		f.tick(time.Hour)
		if got, _ := f.s.Webhooks.Endpoint(f.ctx, f.live, e.ID); got.Status == webhook.Disabled {
			disabledAfter = elapsed + time.Hour
			if !strings.Contains(*got.DisabledReason, "5 days") {
				t.Fatalf("reason %q", *got.DisabledReason)
			}
			break
		}
	}
	if disabledAfter < 5*24*time.Hour || disabledAfter > 5*24*time.Hour+2*time.Hour {
		t.Fatalf("disabled after %v, want just after 5 days", disabledAfter)
	}
}

func TestRotationOverlap(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, old := f.endpoint(f.live, r.URL, "incident.created")
	_, fresh, err := f.s.Webhooks.RotateSecret(f.ctx, f.live, e.ID)
	if err != nil || fresh == old {
		t.Fatal(err)
	}
	f.incident(f.live)
	f.tick(0)
	req := r.requests()[0]
	if sigs := strings.Fields(req.header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("signatures during the overlap: %v", sigs)
	}
	for _, secret := range []string{old, fresh} {
		if err := webhook.Verify(secret, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); err != nil {
			t.Fatalf("during the overlap: %v", err)
		}
	}
	f.clk.Advance(webhook.RotationOverlap)
	f.incident(f.live)
	f.tick(0)
	req = r.requests()[1]
	if err := webhook.Verify(old, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); !errors.Is(err, webhook.ErrSignature) {
		t.Fatalf("old secret after 24 h: %v", err)
	}
	if err := webhook.Verify(fresh, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
}

func TestPingReachesTheEndpointWhateverItsFilter(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, _ := f.endpoint(f.live, r.URL, "incident.resolved")
	d, err := f.s.Webhooks.Ping(f.ctx, f.live, e.ID)
	if err != nil || d.EventType != "ping" {
		t.Fatal(err)
	}
	f.tick(0)
	if got := r.requests(); len(got) != 1 || !strings.Contains(string(got[0].body), `"type":"ping"`) {
		t.Fatalf("ping: %v", got)
	}
	if _, err := f.s.Webhooks.Ping(f.ctx, f.test, e.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("ping from the other environment: %v", err)
	}
}

// Several workers over one store: each attempt is made once.
func TestConcurrentWorkersDeliverOncePerAttempt(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	f.endpoint(f.live, r.URL, "incident.created")
	for range 30 {
		f.incident(f.live)
	}
	workers := []*sety.Sety{f.s, f.restart(), f.restart()}
	f.tickAtOnce(t, workers)
	seen := map[string]int{}
	for _, req := range r.requests() {
		seen[req.header.Get("webhook-id")]++
	}
	if len(seen) != 30 {
		t.Fatalf("%d distinct events delivered, want 30", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s delivered %d times", id, n)
		}
	}
}

// Events committed while no worker ran, and a retry scheduled before a
// restart, are delivered by the restarted process.
func TestRestartWithPendingDeliveries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, db)
	r := newReceiver(t, http.StatusBadGateway, http.StatusOK)
	e, secret := f.endpoint(f.live, r.URL, "incident.created", "incident.note_added")
	inc := f.incident(f.live)
	f.tick(0) // fails: retry due in 5 s
	f.s.Incidents.AddNote(f.ctx, f.live, inc.ID, "committed, never fanned out before the crash")
	db.Close()

	db, err = sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.stores = db
	f.s = f.restart()
	f.tick(5 * time.Second)
	got := r.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want the failed one, its retry and the note", len(got))
	}
	for _, req := range got[1:] {
		if err := webhook.Verify(secret, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range f.deliveries(f.live, e) {
		if d.Status != webhook.Succeeded {
			t.Fatalf("after the restart: %+v", d)
		}
	}
}

func TestEndpointValidation(t *testing.T) {
	strict, err := sety.New(memory.New())
	if err != nil {
		t.Fatal(err)
	}
	tenant := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	for url, field := range map[string]string{
		"http://example.com/hook":        "https",
		"https://127.0.0.1/hook":         "loopback",
		"https://localhost:8443/hook":    "loopback",
		"https://10.1.2.3/hook":          "private",
		"https://169.254.169.254/latest": "link-local",
		"https://[::1]/hook":             "loopback",
		"https://100.64.0.1/hook":        "shared",
		// Special-purpose space, however it is written.
		"https://[64:ff9b::a9fe:a9fe]/latest": "special-purpose IPv6", // NAT64 of the metadata address
		"https://[2002:a9fe:a9fe::1]/hook":    "6to4",
		"https://[::a9fe:a9fe]/hook":          "special-purpose IPv6", // IPv4-compatible
		"https://[::ffff:169.254.169.254]/":   "IPv4-mapped",
		"https://[2001:0:4136:e378::1]/hook":  "Teredo",
		"https://[fd00:ec2::254]/latest":      "unique-local",
		"https://198.18.0.1/hook":             "benchmarking",
		"https://240.0.0.1/hook":              "reserved",
		"https://255.255.255.255/hook":        "broadcast",
		"https://192.0.0.170/hook":            "IETF",
		"https://2130706433/hook":             "loopback",
		"https://0x7f000001/hook":             "loopback",
		"https://127.1/hook":                  "loopback",
		"https://0177.0.0.1/hook":             "loopback",
		"https://0xa9.0xfe.0xa9.0xfe/latest":  "link-local",
		"https://LOCALHOST./hook":             "loopback",
		"https://[fe80::1%25eth0]/hook":       "zoned",
		// Hosts that IDNA maps onto an address, judged as mapped.
		"https://①②⑦.⓪.⓪.①/hook":          "loopback",   // circled digits
		"https://１６９。２５４。１６９。２５４/latest":  "link-local", // full-width digits and dots
		"https://ｌｏｃａｌｈｏｓｔ/hook":          "loopback",
		"https://localhost%E3%80%82/hook": "loopback", // an escaped full-width dot
		// Hosts that do not normalize.
		"https://exa%C2%ADmple%E2%80%A8.com/hook": "host",
		"https://a_b.example.com/hook":            "host",
		"https://-bad-.example.com/hook":          "host",
		"https://xn--zz.example.com/hook":         "host",
		"https://%E3%80%82/hook":                  "host",
		"ftp://example.com/hook":                  "https",
		"https://user:pw@example.com/hook":        "credentials",
		"not a url":                               "absolute",
	} {
		_, _, err := strict.Webhooks.CreateEndpoint(context.Background(), tenant, webhook.CreateEndpointRequest{URL: url, Events: []string{"*"}})
		if !setyerr.Is(err, setyerr.Invalid) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want Invalid mentioning %s", url, err, field)
		}
	}
	for _, events := range [][]string{nil, {"incident.exploded"}, {"incidents.*"}, {"access"}} {
		_, _, err := strict.Webhooks.CreateEndpoint(context.Background(), tenant, webhook.CreateEndpointRequest{URL: "https://example.com", Events: events})
		if !setyerr.Is(err, setyerr.Invalid) {
			t.Errorf("events %v: %v, want Invalid", events, err)
		}
	}
}

// A host is stored as DNS is asked for it (IDNA's lookup form), and a
// refusal that the server's configuration could lift says how, when the
// host gives a hint.
func TestEndpointURLsAreNormalized(t *testing.T) {
	ctx := context.Background()
	s, err := sety.New(memory.New(), sety.WithWebhooks(webhook.Config{PrivateHint: "start the server with -allow-private-webhooks"}))
	if err != nil {
		t.Fatal(err)
	}
	org, err := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	for raw, want := range map[string]string{
		"https://Bücher.Example/hooks?x=1": "https://xn--bcher-kva.example/hooks?x=1",
		"https://ｅｘａｍｐｌｅ。com:8443/h#frag":  "https://example.com:8443/h",
		"https://EXAMPLE.com/Path":         "https://example.com/Path",
		"https://[2606:4700::6810:84e5]/h": "https://[2606:4700::6810:84e5]/h",
	} {
		e, _, err := s.Webhooks.CreateEndpoint(ctx, tenant, webhook.CreateEndpointRequest{URL: raw, Events: []string{"*"}})
		if err != nil || e.URL != want {
			t.Errorf("%s: stored %v (%v), want %s", raw, e, err, want)
			continue
		}
		// PATCH normalizes and refuses as create does.
		up, err := s.Webhooks.UpdateEndpoint(ctx, tenant, e.ID, webhook.UpdateEndpointRequest{URL: &raw})
		if err != nil || up.URL != want {
			t.Errorf("update to %s: %v %v", raw, up, err)
		}
		bad := "https://①②⑦.⓪.⓪.①/"
		if _, err := s.Webhooks.UpdateEndpoint(ctx, tenant, e.ID, webhook.UpdateEndpointRequest{URL: &bad}); !setyerr.Is(err, setyerr.Invalid) ||
			!strings.Contains(err.Error(), "loopback") {
			t.Errorf("update to %s: %v, want Invalid", bad, err)
		}
	}
	for _, raw := range []string{"http://example.com/h", "https://10.0.0.8/h"} {
		_, _, err := s.Webhooks.CreateEndpoint(ctx, tenant, webhook.CreateEndpointRequest{URL: raw, Events: []string{"*"}})
		if !setyerr.Is(err, setyerr.Invalid) || !strings.Contains(err.Error(), "(start the server with -allow-private-webhooks)") {
			t.Errorf("%s: %v, want Invalid with the host's hint", raw, err)
		}
	}
	// Without a hint, or with private targets allowed, nothing is added.
	_, _, err = webhookService(t, webhook.Config{}).CreateEndpoint(ctx, tenant, webhook.CreateEndpointRequest{URL: "https://10.0.0.8/h", Events: []string{"*"}})
	if err == nil || strings.Contains(err.Error(), "(") {
		t.Errorf("no hint configured: %v", err)
	}
	open := webhookService(t, webhook.Config{AllowPrivate: true, PrivateHint: "start the server with -allow-private-webhooks"})
	_, _, err = open.CreateEndpoint(ctx, tenant, webhook.CreateEndpointRequest{URL: "https://[fe80::1%25eth0]/h", Events: []string{"*"}})
	if err == nil || strings.Contains(err.Error(), "allow-private") {
		t.Errorf("a zoned address with private targets allowed: %v, want a refusal without the hint", err)
	}
}

func webhookService(t *testing.T, cfg webhook.Config) *webhook.Service {
	s, err := sety.New(memory.New(), sety.WithWebhooks(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s.Webhooks
}

// The guarded transport refuses non-public addresses when it connects,
// after DNS, however the URL named them.
func TestGuardRefusesPrivateAddressesAtConnect(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, _ := f.endpoint(f.live, r.URL, "incident.created") // registered while private targets were allowed
	guarded, err := sety.New(f.stores, sety.WithClock(f.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.incident(f.live)
	if _, err := guarded.Webhooks.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.requests()) != 0 {
		t.Fatal("the guard let a request through to loopback")
	}
	d := f.deliveries(f.live, e)[0]
	if d.Status != webhook.Pending || d.Error == nil || !strings.Contains(*d.Error, "refusing loopback address") {
		t.Fatalf("guarded delivery: %+v", d)
	}
}

// OnAttempt hears each recorded attempt with what it left the delivery as.
func TestOnAttemptHearsEachOutcome(t *testing.T) {
	var heard []string
	f := newFixture(t, memory.New())
	f.s = f.instance(webhook.Config{OnAttempt: func(outcome string, took time.Duration) { heard = append(heard, outcome) }})
	r := newReceiver(t, http.StatusInternalServerError, http.StatusOK, http.StatusGone)
	f.endpoint(f.live, r.URL, "incident.created")
	f.incident(f.live)
	f.tick(0)                                 // 500
	f.tick(webhook.DefaultRetrySchedule()[0]) // 200
	f.incident(f.live)
	f.tick(0) // 410
	want := []string{"retrying", "succeeded", "failed"}
	if !slices.Equal(heard, want) {
		t.Fatalf("heard %v, want %v", heard, want)
	}
}
