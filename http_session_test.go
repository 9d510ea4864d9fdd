package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
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

// The console follows the event stream with its session cookie, and sees
// the assignment it makes, and the SLA risk that follows, as they commit.
func TestSessionReadsTheStream(t *testing.T) {
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

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
