package sety_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/stream"
	"github.com/sety-io/sety/webhook"
)

// sseEvent is one event read from a stream; a comment line is an event
// "heartbeat" with its text.
type sseEvent struct {
	id, event string
	data      map[string]any
	comment   string
}

// openStream connects to the event stream and returns its events as they
// arrive; lastID resumes after an event.
func openStream(t *testing.T, ctx context.Context, url, key, lastID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/external/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		out := make(chan sseEvent)
		close(out)
		return resp, out
	}
	return resp, readEvents(resp)
}

// readEvents parses an open stream's events as they arrive (heartbeats as
// events named "heartbeat"), until it ends.
func readEvents(resp *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.id != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{event: "heartbeat", comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.data)
			}
		}
	}()
	return out
}

// decodeInto decodes a JSON answer into out and closes its body.
func decodeInto(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%d: %v", resp.StatusCode, err)
	}
}

// next waits for the next event that is not a heartbeat.
func next(t *testing.T, events <-chan sseEvent, within time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.event != "heartbeat" {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event within %v", within)
		}
	}
}

func TestEventStream(t *testing.T) { testEventStream(t, memory.New()) }

func testEventStream(t *testing.T, stores sety.Stores) {
	s, err := sety.New(stores)
	if err != nil {
		t.Fatal(err)
	}
	ctx, srv := serveRunning(t, s)
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	other, _ := s.Auth.CreateOrganization(ctx, "Other", auth.Growth)
	issue := func(org *auth.Organization, env auth.Environment, scopes ...auth.Scope) string {
		_, key, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: env}, auth.KeySpec{Name: "stream", Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	live, test := issue(org, auth.Live, auth.All), issue(org, auth.Test, auth.All)
	post := func(key, path, body string) map[string]any {
		t.Helper()
		var out map[string]any
		apitest.Call(t, http.MethodPost, srv.URL+"/v1/external"+path, key, body, &out)
		return out
	}

	streamCtx, closeStream := context.WithCancel(ctx)
	resp, events := openStream(t, streamCtx, srv.URL, test, "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Other tenants' and environments' events never show.
	post(issue(other, auth.Test, auth.All), "/incidents", sos)
	post(live, "/incidents", sos)
	created := time.Now()
	inc := post(test, "/incidents", sos)["incident"].(map[string]any)
	got := next(t, events, time.Second)
	t.Logf("incident.created arrived %v after the create returned", time.Since(created))
	if got.event != "incident.created" || got.data["type"] != "incident.created" || got.data["sequence"] != 1.0 ||
		got.data["data"].(map[string]any)["incident"].(map[string]any)["incident_id"] != inc["incident_id"] {
		t.Fatalf("first event %+v", got)
	}
	lastSeen := got.id
	closeStream() // the client drops; meanwhile the incident moves on

	id := inc["incident_id"].(string)
	post(test, "/incidents/"+id+"/notes", `{"message":"on the phone"}`)
	post(test, "/incidents/"+id+"/cancel", `{"reason_code":"other"}`)
	_, events = openStream(t, ctx, srv.URL, test, lastSeen)
	var types []string
	seen := map[string]bool{}
	for range 2 {
		ev := next(t, events, 5*time.Second)
		if seen[ev.id] {
			t.Fatalf("event %s twice", ev.id)
		}
		seen[ev.id] = true
		types = append(types, ev.event)
	}
	if strings.Join(types, ",") != "incident.note_added,incident.cancelled" {
		t.Fatalf("after the reconnect: %v, want the missed note and cancel in order", types)
	}
	// Then live events follow, once.
	post(test, "/incidents/"+id+"/notes", `{"message":"after the reconnect"}`)
	if ev := next(t, events, 5*time.Second); ev.event != "incident.note_added" || seen[ev.id] {
		t.Fatalf("live after the catch-up: %+v", ev)
	}
}

func TestEventStreamRules(t *testing.T) {
	t.Parallel()
	s, _ := sety.New(memory.New(), sety.WithEventStream(stream.Config{Heartbeat: 20 * time.Millisecond}))
	ctx, srv := serveRunning(t, s)
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	issue := func(scopes ...auth.Scope) string {
		_, key, _ := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, auth.KeySpec{Name: "stream", Scopes: scopes})
		return key
	}
	// A key without a domain's read scope is refused; a bad id is 400.
	if resp, _ := openStream(t, ctx, srv.URL, issue(auth.ThreatRead), ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("threat-only key: %d", resp.StatusCode)
	}
	if resp, _ := openStream(t, ctx, srv.URL, issue(auth.All), "yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad Last-Event-ID: %d", resp.StatusCode)
	}
	// An access-only key sees no incident events, and idle streams get
	// heartbeats.
	resp, events := openStream(t, ctx, srv.URL, issue(auth.AccessRead), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("access key: %d", resp.StatusCode)
	}
	if _, _, err := s.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, sosRequest()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case ev := <-events:
			if ev.event != "heartbeat" {
				t.Fatalf("an access-only key got %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no heartbeat")
		}
	}
}

// A client resuming far behind gets every event it missed, however many
// pages of the store the catch-up reads, then the live ones: none skipped
// between the end of a page and where the live events start.
func TestEventStreamCatchesUpOverManyPages(t *testing.T) {
	t.Parallel()
	testEventStreamCatchesUpOverManyPages(t, memory.New())
}

func TestEventStreamCatchesUpOverManyPagesOnSQLite(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testEventStreamCatchesUpOverManyPages(t, db)
}

func testEventStreamCatchesUpOverManyPages(t *testing.T, stores sety.Stores) {
	s, err := sety.New(stores)
	if err != nil {
		t.Fatal(err)
	}
	ctx, srv := serveRunning(t, s)
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	// A live tenant: the sandbox's simulator would add events of its own
	// while the test reads, and on a slow run (-race, a loaded machine) the
	// hub drops a subscriber that falls that far behind (the client would
	// resume; this test is about one catch-up).
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	_, key, err := s.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "stream", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	// More than two pages of the catch-up (it reads 200 events at a time),
	// each page ending on an event the stream shows.
	for range 450 {
		if _, _, err := s.Incidents.Create(ctx, tenant, sosRequest()); err != nil {
			t.Fatal(err)
		}
	}
	// The dispatcher follows each creation with its dispatching: wait for
	// all 900 before opening, so that only the live creation's events
	// reach the subscription while its catch-up is written (a slow run
	// would otherwise fill the subscription's buffer and be dropped).
	filter := outbox.Filter{OrgID: tenant.OrgID, Environment: string(tenant.Env)}
	for deadline := time.Now().Add(30 * time.Second); ; {
		logged, _, err := stores.EventLog().EventsAfter(ctx, 0, filter, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(logged) >= 900 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log holds %d of the 900 events of 450 creations and their dispatchings", len(logged))
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, events := openStream(t, ctx, srv.URL, key, "0")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resuming from the start: %d", resp.StatusCode)
	}
	live, _, err := s.Incidents.Create(ctx, tenant, sosRequest()) // after the stream opened: a live event
	if err != nil {
		t.Fatal(err)
	}
	var want []outbox.Event
	for after := int64(0); ; {
		page, next, err := stores.EventLog().EventsAfter(ctx, after, filter, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, page...)
		if len(page) == 0 {
			break
		}
		after = next
	}
	// Each creation is followed by its dispatching (the dispatcher's, a
	// moment later): the log holds both kinds, and the stream must deliver
	// exactly the log, in order.
	created := 0
	for _, ev := range want {
		if ev.Type == incident.TypeCreated {
			created++
		}
	}
	if created != 451 || !slices.ContainsFunc(want, func(ev outbox.Event) bool { return ev.SubjectID == live.ID }) {
		t.Fatalf("the log holds %d creations among %d events of the tenant, want 451 with %s's", created, len(want), live.ID)
	}
	for i, w := range want {
		got := next(t, events, 5*time.Second)
		if got.id != strconv.FormatInt(w.Position, 10) || got.data["id"] != w.ID {
			t.Fatalf("event %d of the stream: id %s (%v), want %d (%s)", i, got.id, got.data["id"], w.Position, w.ID)
		}
	}
}

func sosRequest() incident.CreateIncidentRequest {
	return incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.5244, 3.3792)}}
}

// serveRunning runs s and serves its API until the test ends; the context
// ends then too, closing the streams opened with it.
func serveRunning(t *testing.T, s *sety.Sety) (context.Context, *httptest.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	handler, _ := newHandler(s)
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		<-done
	})
	return ctx, srv
}

// A client resuming after an event the retention purged gets the events
// that remain after it, not an error.
func TestEventStreamResumesFromAPurgedPosition(t *testing.T) {
	t.Parallel()
	stores := memory.New()
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC))
	s, err := sety.New(stores, sety.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Test}
	_, key, err := s.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "stream", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Incidents.Create(ctx, tenant, sosRequest()); err != nil {
		t.Fatal(err)
	}
	first, _, err := stores.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("first event: %v %v", first, err)
	}
	clk.Advance(webhook.DefaultRetention + time.Hour)
	newer, _, err := s.Incidents.Create(ctx, tenant, sosRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhooks.Tick(ctx); err != nil { // publishes every event
		t.Fatal(err)
	}
	if n, err := s.Webhooks.Purge(ctx); err != nil || n == 0 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if left, _, _ := stores.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 100); left[0].Position <= first[0].Position {
		t.Fatalf("the first event was kept: %+v", left[0])
	}

	_, srv := serveRunning(t, s)
	resp, events := openStream(t, ctx, srv.URL, key, strconv.FormatInt(first[0].Position, 10))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resuming after a purged event: %d", resp.StatusCode)
	}
	got := next(t, events, 5*time.Second)
	inc := got.data["data"].(map[string]any)["incident"].(map[string]any)
	if got.event != "incident.created" || inc["incident_id"] != newer.ID {
		t.Fatalf("first event after the purged one: %+v, want the newer incident's creation", got)
	}
}
