package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/webhook"
)

// event is what a receiver needs of a delivered payload.
type event struct {
	Type     string
	Sequence int64
	Data     struct {
		Incident struct {
			ID string `json:"incident_id"`
		} `json:"incident"`
	}
}

func decodeEvent(t *testing.T, body []byte) event {
	t.Helper()
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// One incident's events reach an endpoint in sequence order: while the
// first is waiting for its retry the later ones wait behind it, and they
// follow as soon as it succeeds. Another incident's events do not wait.
func TestIncidentEventsWaitBehindAnEarlierFailure(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t, http.StatusInternalServerError, http.StatusOK)
	f.endpoint(f.live, r.URL, "incident.created", "incident.note_added", "incident.cancelled") // not dispatching (sequence 2)
	inc := f.incident(f.live)
	if _, err := f.s.Incidents.AddNote(f.ctx, f.live, inc.ID, "on the way"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Incidents.Cancel(f.ctx, f.live, inc.ID, incident.CancelIncidentRequest{Reason: "safe"}); err != nil {
		t.Fatal(err)
	}
	if n := f.tick(0); n != 1 {
		t.Fatalf("%d attempts, want 1: the first failed, the others wait behind it", n)
	}
	other := f.incident(f.live)
	if n := f.tick(time.Second); n != 1 {
		t.Fatalf("%d attempts, want 1: another incident's event does not wait", n)
	}
	if n := f.tick(4 * time.Second); n != 3 {
		t.Fatalf("%d attempts when the retry came due, want 3: the retry, then the two behind it", n)
	}
	var got []string
	for _, req := range r.requests() {
		ev := decodeEvent(t, req.body)
		who := map[string]string{inc.ID: "inc", other.ID: "other"}[ev.Data.Incident.ID]
		got = append(got, fmt.Sprintf("%s#%d", who, ev.Sequence))
	}
	if want := "[inc#1 other#1 inc#1 inc#3 inc#4]"; fmt.Sprint(got) != want {
		t.Fatalf("requests %v, want %v", got, want)
	}
}

// Two processes over one SQLite file, ticking at once: every incident's
// events arrive once each, in sequence order.
func TestOrderAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	f := newFixture(t, open())
	r := newReceiver(t)
	f.endpoint(f.live, r.URL, "incident.*")
	const incidents = 10
	for range incidents {
		inc := f.incident(f.live)
		if _, err := f.s.Incidents.AddNote(f.ctx, f.live, inc.ID, "note"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Incidents.Cancel(f.ctx, f.live, inc.ID, incident.CancelIncidentRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	f.stores = open() // the second process
	workers := []*sety.Sety{f.s, f.restart()}
	const events = 4 // created, dispatching, note_added, cancelled
	for len(r.requests()) < events*incidents {
		f.tickAtOnce(t, workers)
		if t.Failed() {
			return
		}
	}
	last := map[string]int64{}
	for _, req := range r.requests() {
		ev := decodeEvent(t, req.body)
		if id := ev.Data.Incident.ID; ev.Sequence != last[id]+1 {
			t.Fatalf("incident %s: sequence %d after %d", id, ev.Sequence, last[id])
		}
		last[ev.Data.Incident.ID] = ev.Sequence
	}
	if len(r.requests()) != events*incidents {
		t.Fatalf("%d requests, want %d", len(r.requests()), events*incidents)
	}
}

// A hanging endpoint holds only its own slots: while its attempts hang,
// the worker keeps claiming, and a healthy endpoint of the same tenant gets
// every event.
func TestHangingEndpointDelaysOnlyItself(t *testing.T) {
	f := newFixture(t, memory.New())
	release := make(chan struct{})
	var mu sync.Mutex
	hung := 0
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hung++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return
	const incidents = 20
	arrived := make(chan struct{}, incidents)
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
	}))
	t.Cleanup(healthy.Close)
	f.endpoint(f.live, hanging.URL, "incident.created")
	f.endpoint(f.live, healthy.URL, "incident.created")

	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.s.Webhooks.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for range incidents {
		f.incident(f.live) // commits an event and wakes the worker
	}
	for range incidents {
		<-arrived
	}
	mu.Lock()
	defer mu.Unlock()
	if hung > 4 {
		t.Fatalf("the hanging endpoint got %d requests at once, over its 4 slots", hung)
	}
}

// An endpoint that keeps failing pauses (the breaker opens), is probed one
// attempt at a time when the pause ends, and takes everything again once a
// probe succeeds. The pause delays attempts without moving the schedule.
func TestBreakerPausesAFailingEndpoint(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t, http.StatusServiceUnavailable)
	e, _ := f.endpoint(f.live, r.URL, "incident.created")
	for range 5 {
		f.incident(f.live)
	}
	if n := f.tick(0); n != 5 {
		t.Fatalf("%d attempts, want 5", n)
	}
	got, _ := f.s.Webhooks.Endpoint(f.ctx, f.live, e.ID)
	if got.Failures != 5 || !got.PausedUntil.Equal(f.clk.Now().Add(10*time.Second)) {
		t.Fatalf("after 5 failures: failures %d, paused until %v", got.Failures, got.PausedUntil)
	}
	for _, d := range f.deliveries(f.live, e) {
		if !d.NextAttemptAt.Equal(f.clk.Now().Add(webhook.DefaultRetrySchedule()[0])) {
			t.Fatalf("the retry schedule moved: %+v", d)
		}
	}
	if n := f.tick(5 * time.Second); n != 0 {
		t.Fatalf("%d attempts while paused, want 0", n)
	}
	if n := f.tick(5 * time.Second); n != 1 {
		t.Fatalf("%d attempts when the pause ended, want 1 probe", n)
	}
	// The failed probe doubles the pause.
	if n := f.tick(20*time.Second - time.Millisecond); n != 0 {
		t.Fatalf("%d attempts during the second pause", n)
	}
	r.mu.Lock()
	r.statuses = []int{http.StatusOK}
	r.mu.Unlock()
	if n := f.tick(time.Millisecond); n != 4 {
		t.Fatalf("%d attempts after the pause, want 4: a successful probe, then the 3 others due (the first probe's retry is in 5 min)", n)
	}
	got, _ = f.s.Webhooks.Endpoint(f.ctx, f.live, e.ID)
	if got.Failures != 0 || !got.PausedUntil.IsZero() {
		t.Fatalf("after a success: failures %d, paused until %v", got.Failures, got.PausedUntil)
	}
}

// An endpoint deleted while an attempt is in flight takes its deliveries
// with it: the attempt's end has nothing to record, and that is no error.
func TestEndpointDeletedMidAttemptIsNotAnError(t *testing.T) {
	f := newFixture(t, memory.New())
	var logs bytes.Buffer
	var e *webhook.Endpoint
	var s *sety.Sety
	s = f.instance(webhook.Config{Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
		if err := s.Webhooks.DeleteEndpoint(req.Context(), f.live, e.ID); err != nil {
			t.Error(err)
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})}, sety.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	e, _ = f.endpoint(f.live, "http://127.0.0.1:9/hook", "incident.created")
	f.incident(f.live)
	if n, err := s.Webhooks.Tick(f.ctx); n != 1 || err != nil {
		t.Fatalf("tick: %d attempts, %v", n, err)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "deleted during an attempt") {
		t.Fatalf("logs: %s", logs.String())
	}
	if _, err := s.Webhooks.Endpoint(f.ctx, f.live, e.ID); err == nil {
		t.Fatal("the endpoint is still there")
	}
}
