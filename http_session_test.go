package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/syncbuf"
	"github.com/sety-io/sety/stream"
)

// startSession signs in with key and returns the session cookie's value.
func startSession(t *testing.T, h *harness, key string, header ...any) (string, *http.Cookie) {
	t.Helper()
	rec := h.api.Do(http.MethodPost, base+"/sessions", append([]any{"Authorization: Bearer " + key}, header...)...)
	wantStatus(t, rec, http.StatusCreated)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != auth.SessionCookie {
		t.Fatalf("cookies %v", rec.Header().Values("Set-Cookie"))
	}
	return cookies[0].Value, cookies[0]
}

// inSession sends a request as the console page does: the cookie, from the
// same origin, and the CSRF header on writes.
func inSession(h *harness, method, path, session string, header ...any) *httptest.ResponseRecorder {
	args := []any{"Cookie: " + auth.SessionCookie + "=" + session, "Sec-Fetch-Site: same-origin"}
	if method != http.MethodGet {
		args = append(args, auth.CSRFHeader+": 1")
	}
	return h.api.Do(method, base+path, append(args, header...)...)
}

func TestSessionSignInAndOut(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	console := h.key(h.org, auth.Live, auth.Console)
	session, c := startSession(t, h, console)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != base || c.MaxAge != int((12*time.Hour).Seconds()) {
		t.Fatalf("cookie %+v", c)
	}
	if session == console || !strings.HasPrefix(session, "sety_live_") {
		t.Fatal("the cookie does not hold a credential of its own")
	}
	// Over TLS (here: a proxy that says so) the cookie is Secure.
	if _, c := startSession(t, h, console, "X-Forwarded-Proto: https"); !c.Secure {
		t.Fatalf("cookie over TLS %+v", c)
	}

	// The cookie stands in for the key: reads, and writes with the header.
	me := wantStatus(t, inSession(h, http.MethodGet, "/sessions/current", session), http.StatusOK)["session"].(map[string]any)
	if me["session"] != true || me["environment"] != "live" || me["expires_at"] != "2026-03-11T02:22:05.412Z" ||
		strings.Join(toStrings(me["scopes"]), ",") != "console" {
		t.Fatalf("session %v", me)
	}
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusOK)
	wantStatus(t, inSession(h, http.MethodPost, "/incidents", session, strings.NewReader(sos), "Content-Type: application/json"), http.StatusCreated)
	// It holds the key's scopes, no more.
	wantStatus(t, inSession(h, http.MethodGet, "/webhooks", session), http.StatusForbidden, "webhooks:read")

	// Cross-site requests and writes without the header are refused.
	cross := h.api.Do(http.MethodGet, base+"/incidents", "Cookie: "+auth.SessionCookie+"="+session, "Sec-Fetch-Site: cross-site")
	wantStatus(t, cross, http.StatusUnauthorized, "cross-site")
	evil := h.api.Do(http.MethodGet, base+"/incidents", "Cookie: "+auth.SessionCookie+"="+session, "Origin: https://evil.example")
	wantStatus(t, evil, http.StatusUnauthorized, "cross-site")
	noHeader := h.api.Do(http.MethodPost, base+"/incidents", "Cookie: "+auth.SessionCookie+"="+session, "Sec-Fetch-Site: same-origin",
		"Content-Type: application/json", strings.NewReader(sos))
	wantStatus(t, noHeader, http.StatusForbidden, auth.CSRFHeader)
	// A session cannot start another (it would never end), nor can a garbage cookie.
	wantStatus(t, inSession(h, http.MethodPost, "/sessions", session), http.StatusForbidden, "session")
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", "sety_live_nonsense"), http.StatusUnauthorized)
	// The Authorization header wins over the cookie.
	mine := wantStatus(t, inSession(h, http.MethodGet, "/sessions/current", session, "Authorization: Bearer "+h.live), http.StatusOK)["session"].(map[string]any)
	if mine["session"] != false || strings.Join(toStrings(mine["scopes"]), ",") != "*" {
		t.Fatalf("with both: %v", mine)
	}
	// Sign-out with a key is refused: it would revoke the key.
	wantStatus(t, h.do(http.MethodDelete, "/sessions/current", console, nil), http.StatusConflict)
	wantStatus(t, h.do(http.MethodGet, "/incidents", console, nil), http.StatusOK)

	// Sign-out ends it on the server and deletes the cookie.
	out := inSession(h, http.MethodDelete, "/sessions/current", session)
	wantStatus(t, out, http.StatusOK)
	if cs := out.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Fatalf("sign-out cookies %v", out.Header().Values("Set-Cookie"))
	}
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusUnauthorized)
	wantStatus(t, h.do(http.MethodGet, "/incidents", console, nil), http.StatusOK) // the key lives on
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	session, _ := startSession(t, h, h.test)
	h.clock.Advance(12*time.Hour - time.Millisecond)
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusOK)
	h.clock.Advance(time.Millisecond)
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusUnauthorized)

	// A session never outlives its key.
	_, short, err := h.sety.Auth.IssueKey(context.Background(), auth.Tenant{OrgID: h.org.ID, Env: auth.Test},
		auth.KeySpec{Name: "short", Scopes: []auth.Scope{auth.Console}, ExpiresAt: h.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, c := startSession(t, h, short)
	if c.MaxAge != 3600 {
		t.Fatalf("session of a key expiring in an hour: max-age %d", c.MaxAge)
	}
}

// sessionKeyIDs returns the id of the session's own key record and of the
// API key that started it, as GET /sessions/current and GET /api-keys
// show them.
func sessionKeyIDs(t *testing.T, h *harness, session string) (own, parent string) {
	t.Helper()
	me := wantStatus(t, inSession(h, http.MethodGet, "/sessions/current", session), http.StatusOK)["session"].(map[string]any)
	own = me["key_id"].(string)
	for _, k := range keyRecords(t, h, h.live) {
		if k["key_id"] == own {
			parent, _ = k["parent_key_id"].(string)
		}
	}
	if parent == "" {
		t.Fatalf("the session's record %s names no parent key", own)
	}
	return own, parent
}

// keyRecords lists the tenant's keys through the API.
func keyRecords(t *testing.T, h *harness, key string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range wantStatus(t, h.do(http.MethodGet, "/api-keys?limit=100", key, nil), http.StatusOK)["data"].([]any) {
		k := v.(map[string]any)
		out[k["key_id"].(string)] = k
	}
	return out
}

// Revoking the key a session was started with ends the session at once
// (on this server), and every session of that key; the key list shows
// which records are sessions and of which key, ended with it.
func TestSessionEndsWithItsKey(t *testing.T) {
	t.Parallel()
	h := newSQLiteHarness(t)
	console := h.key(h.org, auth.Live, auth.Console)
	desk, _ := startSession(t, h, console)
	phone, _ := startSession(t, h, console)
	unrelated, _ := startSession(t, h, h.key(h.org, auth.Live, auth.Console))
	deskID, consoleID := sessionKeyIDs(t, h, desk)
	phoneID, _ := sessionKeyIDs(t, h, phone)
	unrelatedID, _ := sessionKeyIDs(t, h, unrelated)

	keys := keyRecords(t, h, h.live)
	if keys[consoleID]["parent_key_id"] != nil || keys[consoleID]["name"] != "test" {
		t.Fatalf("the API key's record: %v", keys[consoleID])
	}
	if keys[deskID]["name"] != "Console session of "+consoleID || keys[deskID]["revoked_at"] != nil {
		t.Fatalf("the session's record: %v", keys[deskID])
	}
	// A session of a * key may manage keys, but not revoke its own key, and
	// its credential sent as a key cannot start a session of its own.
	star, _ := startSession(t, h, h.live)
	starID, liveID := sessionKeyIDs(t, h, star)
	wantStatus(t, inSession(h, http.MethodDelete, "/api-keys/"+liveID, star), http.StatusConflict, "started with")
	wantStatus(t, h.api.Do(http.MethodPost, base+"/sessions", "Authorization: Bearer "+star), http.StatusForbidden, "session")
	// An administrator ends one session by its record, and only that one.
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+starID, h.test, nil), http.StatusNotFound) // another environment's key
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+starID, h.live, nil), http.StatusOK)
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", star), http.StatusUnauthorized)
	wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)

	revoked := wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+consoleID, h.live, nil), http.StatusOK)["api_key"].(map[string]any)
	for _, session := range []string{desk, phone} {
		wantStatus(t, inSession(h, http.MethodGet, "/incidents", session), http.StatusUnauthorized)
		wantStatus(t, inSession(h, http.MethodGet, "/sessions/current", session), http.StatusUnauthorized)
		wantStatus(t, inSession(h, http.MethodPost, "/incidents/inc_0000000000000000/notes", session, strings.NewReader(`{"message":"x"}`),
			"Content-Type: application/json"), http.StatusUnauthorized)
	}
	wantStatus(t, inSession(h, http.MethodGet, "/incidents", unrelated), http.StatusOK)
	keys = keyRecords(t, h, h.live)
	for _, id := range []string{deskID, phoneID} {
		if keys[id]["revoked_at"] != revoked["revoked_at"] || keys[id]["parent_key_id"] != consoleID {
			t.Fatalf("session %s after its key's revocation: %v", id, keys[id])
		}
	}
	if keys[unrelatedID]["revoked_at"] != nil {
		t.Fatalf("another key's session was revoked: %v", keys[unrelatedID])
	}
	// The key cannot sign in again.
	wantStatus(t, h.api.Do(http.MethodPost, base+"/sessions", "Authorization: Bearer "+console), http.StatusUnauthorized)
}

// On another server sharing the store, the session ends within the key
// cache's lifetime: it is trusted from its last read for the TTL, then
// refused.
func TestSessionEndsWithItsKeyOnAnotherServer(t *testing.T) {
	t.Parallel()
	const ttl = 5 * time.Second
	path := filepath.Join(t.TempDir(), "sety.db")
	clk := clock.NewFake(t0)
	var servers []*harness
	for range 2 {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sety.New(db, sety.WithClock(clk.Now), sety.WithKeyCacheTTL(ttl), sety.WithRateLimiter(nil))
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, stores: db, sety: s, clock: clk, logs: &syncbuf.Buffer{}}
		h.mount(newHandler(s))
		servers = append(servers, h)
	}
	one, two := servers[0], servers[1]
	one.org, one.live, _ = one.newOrg("Acme")
	two.org, two.live = one.org, one.live
	console := one.key(one.org, auth.Live, auth.Console)
	session, _ := startSession(t, one, console)
	_, consoleID := sessionKeyIDs(t, one, session)
	wantStatus(t, inSession(two, http.MethodGet, "/incidents", session), http.StatusOK) // cached by the second server

	wantStatus(t, one.do(http.MethodDelete, "/api-keys/"+consoleID, one.live, nil), http.StatusOK)
	wantStatus(t, inSession(one, http.MethodGet, "/incidents", session), http.StatusUnauthorized)
	clk.Advance(ttl - time.Millisecond)
	wantStatus(t, inSession(two, http.MethodGet, "/incidents", session), http.StatusOK) // within the bound
	clk.Advance(time.Millisecond)
	wantStatus(t, inSession(two, http.MethodGet, "/incidents", session), http.StatusUnauthorized)
}

// The records of ended sessions leave the key list once the retention has
// passed; the API keys stay.
func TestEndedSessionsArePurged(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	console := h.key(h.org, auth.Live, auth.Console)
	out, _ := startSession(t, h, console)
	expiring, _ := startSession(t, h, console)
	outID, _ := sessionKeyIDs(t, h, out)
	expiringID, _ := sessionKeyIDs(t, h, expiring)
	wantStatus(t, inSession(h, http.MethodDelete, "/sessions/current", out), http.StatusOK)
	h.clock.Advance(auth.DefaultSessionRetention + time.Millisecond)
	if n, err := h.sety.Auth.PurgeSessions(context.Background()); err != nil || n != 1 {
		t.Fatalf("PurgeSessions: %d, %v; want the signed-out session", n, err)
	}
	keys := keyRecords(t, h, h.live)
	if keys[outID] != nil || keys[expiringID] == nil {
		t.Fatalf("after a week: signed out %v, still running until today %v", keys[outID], keys[expiringID])
	}
	h.clock.Advance(auth.DefaultSessionTTL)
	if n, err := h.sety.Auth.PurgeSessions(context.Background()); err != nil || n != 1 {
		t.Fatalf("PurgeSessions: %d, %v; want the expired session", n, err)
	}
	if keys := keyRecords(t, h, h.live); len(keys) != 2 {
		t.Fatalf("%d live keys left, want the * and console keys: %v", len(keys), keys)
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents", console, nil), http.StatusOK)
}

// sety.WithSessionRetention sets how long ended sessions are kept.
func TestSessionRetentionOption(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	for _, c := range []struct {
		keep time.Duration
		want int
	}{{time.Hour, 1}, {-1, 0}} {
		s, err := sety.New(memory.New(), sety.WithClock(clk.Now), sety.WithSessionRetention(c.keep))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
		_, key, _ := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Live}, auth.KeySpec{Name: "desk", Scopes: []auth.Scope{auth.Console}})
		p, _ := s.Auth.Authenticate(ctx, key)
		if _, _, err := s.Auth.StartSession(ctx, p); err != nil {
			t.Fatal(err)
		}
		clk.Advance(auth.DefaultSessionTTL + 2*time.Hour)
		if n, err := s.Auth.PurgeSessions(ctx); err != nil || n != c.want {
			t.Fatalf("retention %v, 2 h after the session's end: purged %d, %v; want %d", c.keep, n, err, c.want)
		}
	}
}

// The console follows the event stream with its session cookie, and sees
// the assignment it makes, and the SLA risk that follows, as they commit.
func TestSessionReadsTheStream(t *testing.T) {
	t.Parallel()
	s, err := sety.New(memory.New(), sety.WithOperationsConsole())
	if err != nil {
		t.Fatal(err)
	}
	ctx, srv := serveRunning(t, s)
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	_, key, _ := s.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "desk", Scopes: []auth.Scope{auth.Console}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign in: %v %v", err, resp)
	}
	resp.Body.Close()
	cookie := resp.Cookies()[0]

	call := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+base+path, strings.NewReader(body))
		req.AddCookie(cookie)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set(auth.CSRFHeader, "1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	streamReq, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+base+"/events/stream", nil)
	streamReq.AddCookie(cookie)
	streamReq.Header.Set("Sec-Fetch-Site", "same-origin")
	streamResp, err := http.DefaultClient.Do(streamReq)
	if err != nil || streamResp.StatusCode != http.StatusOK {
		t.Fatalf("stream with the cookie: %v %v", err, streamResp)
	}
	events := readEvents(streamResp)
	call(http.MethodPut, "/responders/rsp_unit000000000060", `{"name":"Unit 60","location":[3.922,6.5244]}`).Body.Close()
	var created map[string]any
	r := call(http.MethodPost, "/incidents", farSOS)
	decodeInto(t, r, &created)
	id := created["incident"].(map[string]any)["incident_id"].(string)
	call(http.MethodPost, "/incidents/"+id+"/assign", `{"responder_id":"rsp_unit000000000060"}`).Body.Close()
	var types []string
	for len(types) < 4 {
		types = append(types, next(t, events, 5*time.Second).event)
	}
	if strings.Join(types, ",") != "incident.created,incident.dispatching,incident.assigned,incident.sla_at_risk" {
		t.Fatalf("streamed %v", types)
	}
}

// signInOver signs in at the server at url with key and returns the
// session cookie.
func signInOver(t *testing.T, url, key string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+base+"/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign in: %v %v", err, resp)
	}
	resp.Body.Close()
	return resp.Cookies()[0]
}

// openSessionStream opens the event stream at url as the console does:
// with the session cookie, from the same origin.
func openSessionStream(t *testing.T, ctx context.Context, url string, cookie *http.Cookie) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+base+"/events/stream", nil)
	req.AddCookie(cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream with the cookie: %v %v", err, resp)
	}
	return readEvents(resp)
}

// A console's open event stream ends when the key its session was started
// with is revoked: on the server that revoked it at once, on another
// sharing the store at its next recheck. The stream's last event is the
// 401 the console signs out on.
func TestSessionStreamEndsWithItsKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sety.db")
	clk := clock.NewFake(t0)
	instance := func(recheck time.Duration) *sety.Sety {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sety.New(db, sety.WithClock(clk.Now), sety.WithEventStream(stream.Config{Heartbeat: time.Hour, Recheck: recheck}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := instance(time.Hour), instance(20*time.Millisecond) // a learns from its own revocations only
	ctx, srvA := serveRunning(t, a)
	_, srvB := serveRunning(t, b)
	org, _ := a.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	key, secret, err := a.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "desk", Scopes: []auth.Scope{auth.Console}})
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := a.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "other desk", Scopes: []auth.Scope{auth.Console}})
	onA := openSessionStream(t, ctx, srvA.URL, signInOver(t, srvA.URL, secret))
	onB := openSessionStream(t, ctx, srvB.URL, signInOver(t, srvB.URL, secret))
	stays := openSessionStream(t, ctx, srvB.URL, signInOver(t, srvB.URL, other))

	if _, err := a.Auth.RevokeKey(ctx, tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	wantErrorEvent(t, ended(t, onA), http.StatusUnauthorized)
	wantErrorEvent(t, ended(t, onB), http.StatusUnauthorized)
	if _, _, err := a.Incidents.Create(ctx, tenant, sosRequest()); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, stays, hang); ev.event != "incident.created" {
		t.Fatalf("another key's session stream: %+v", ev)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
