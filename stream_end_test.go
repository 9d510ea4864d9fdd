package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/stream"
)

// hang bounds a wait for something that must happen, so a broken build
// fails instead of hanging; no test asserts how soon it happens.
const hang = 30 * time.Second

// ended reads a stream until it ends and returns its last event: a stream
// the server ends sends one last event or comment, then EOF.
func ended(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	var last sseEvent
	deadline := time.After(hang)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return last
			}
			last = ev
		case <-deadline:
			t.Fatal("the stream did not end")
		}
	}
}

// wantErrorEvent fails unless ev is `event: error` with the contract's
// error body of status.
func wantErrorEvent(t *testing.T, ev sseEvent, status int) {
	t.Helper()
	if ev.event != "error" || ev.data["code"] != float64(status) || ev.data["message"] == "" || len(ev.data) != 2 {
		t.Fatalf("last event %+v, want event: error with {code: %d, message}", ev, status)
	}
}

// A stream ends once its key may no longer be used: revoked, or its
// organization suspended, through this instance, at once (the recheck
// interval here is an hour). Its last event carries the error body; other
// streams go on.
func TestEventStreamEndsWhenItsKeyMayNot(t *testing.T) {
	t.Parallel()
	s, err := sety.New(memory.New(), sety.WithEventStream(stream.Config{Heartbeat: time.Hour, Recheck: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, srv := serveRunning(t, s)
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	other, _ := s.Auth.CreateOrganization(ctx, "Other", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Test}
	issue := func(org *auth.Organization) (*auth.APIKey, string) {
		k, secret, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, auth.KeySpec{Name: "stream", Scopes: []auth.Scope{auth.All}})
		if err != nil {
			t.Fatal(err)
		}
		return k, secret
	}
	open := func(key string) <-chan sseEvent {
		t.Helper()
		resp, events := openStream(t, ctx, srv.URL, key, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("open: %d", resp.StatusCode)
		}
		return events
	}

	revoked, revokedSecret := issue(org)
	_, staying := issue(org)
	_, otherSecret := issue(other)
	gone, stays, elsewhere := open(revokedSecret), open(staying), open(otherSecret)
	if _, err := s.Auth.RevokeKey(ctx, tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	wantErrorEvent(t, ended(t, gone), http.StatusUnauthorized)
	if _, _, err := s.Incidents.Create(ctx, tenant, sosRequest()); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, stays, hang); ev.event != "incident.created" {
		t.Fatalf("the other key's stream: %+v", ev)
	}

	if _, err := s.Auth.SetOrganizationStatus(ctx, org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	wantErrorEvent(t, ended(t, stays), http.StatusPaymentRequired)

	// The other organization's stream saw none of it.
	if _, _, err := s.Incidents.Create(ctx, auth.Tenant{OrgID: other.ID, Env: auth.Test}, sosRequest()); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, elsewhere, hang); ev.event != "incident.created" {
		t.Fatalf("the other organization's stream: %+v", ev)
	}
}

// Two instances over one store: a key revoked, or an organization
// suspended, through one ends its streams on the other, which learns it
// only from the store, at its next recheck; so does a key's expiry, read
// with the injected clock.
func TestEventStreamEndsOnEveryInstance(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sety.db")
	clk := clock.NewFake(t0)
	instance := func() *sety.Sety {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sety.New(db, sety.WithClock(clk.Now), sety.WithEventStream(stream.Config{Recheck: 20 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := instance(), instance()
	ctx, srv := serveRunning(t, b)
	org, _ := a.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	issue := func(expires time.Time) (*auth.APIKey, <-chan sseEvent) {
		t.Helper()
		k, secret, err := a.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "stream", Scopes: []auth.Scope{auth.All}, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		resp, events := openStream(t, ctx, srv.URL, secret, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("open on B: %d", resp.StatusCode)
		}
		return k, events
	}

	key, revokedEvents := issue(time.Time{})
	_, expiringEvents := issue(t0.Add(time.Hour))
	_, suspendedEvents := issue(time.Time{})
	revokedAt := time.Now()
	if _, err := a.Auth.RevokeKey(ctx, tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	wantErrorEvent(t, ended(t, revokedEvents), http.StatusUnauthorized)
	t.Logf("B's stream ended %v after A revoked its key (recheck every 20 ms)", time.Since(revokedAt).Round(time.Millisecond))

	clk.Advance(time.Hour)
	wantErrorEvent(t, ended(t, expiringEvents), http.StatusUnauthorized)

	if _, err := a.Auth.SetOrganizationStatus(ctx, org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	wantErrorEvent(t, ended(t, suspendedEvents), http.StatusPaymentRequired)
}

// A Last-Event-ID past the newest event (kept from a store since
// replaced) is 409, saying to reconnect without it; the newest is fine.
func TestEventStreamAheadOfTheLog(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	ctx := runHarness(t, h)
	create(t, h, h.test, sos)
	head, err := h.stores.EventLog().Head(ctx)
	if err != nil || head == 0 {
		t.Fatalf("head %d, %v", head, err)
	}
	for _, ahead := range []int64{head + 1, head + 1000, 1 << 62} {
		rec := h.api.Get(base+"/events/stream", "Authorization: Bearer "+h.test, "Last-Event-ID: "+strconv.FormatInt(ahead, 10))
		wantStatus(t, rec, http.StatusConflict, "past the newest event", "reconnect without Last-Event-ID")
	}
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	srvURL := serveHandler(t, h)
	resp, _ := openStream(t, streamCtx, srvURL, h.test, strconv.FormatInt(head, 10))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Last-Event-ID of the newest event: %d", resp.StatusCode)
	}
}

// CloseStreams ends every open stream at once with a comment, and later
// stream requests are 503 with Retry-After.
func TestCloseStreams(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	ctx := runHarness(t, h)
	srvURL := serveHandler(t, h)
	var streams []<-chan sseEvent
	for _, key := range []string{h.live, h.test} {
		resp, events := openStream(t, ctx, srvURL, key, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("open: %d", resp.StatusCode)
		}
		streams = append(streams, events)
	}
	h.sety.CloseStreams()
	for _, events := range streams {
		if last := ended(t, events); last.event != "heartbeat" || last.comment != "the server is shutting down; reconnect with Last-Event-ID" {
			t.Fatalf("last event %+v, want the shutdown comment", last)
		}
	}
	rec := h.api.Get(base+"/events/stream", "Authorization: Bearer "+h.test)
	wantStatus(t, rec, http.StatusServiceUnavailable, "not running")
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
}

// runHarness runs the harness's Sety (its workers and event stream) until
// the test ends, and returns a context that ends then too.
func runHarness(t *testing.T, h *harness) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sety.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-h.sety.Ready()
	return ctx
}

// serveHandler serves the harness's handler, whose every answer is checked
// against the OpenAPI document, over the network, for streams.
func serveHandler(t *testing.T, h *harness) string {
	srv := httptest.NewServer(h.handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL
}
