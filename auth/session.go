package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// A browser page (the operations console) signs in with a session, so it
// never keeps an API key: it presents a key once, and gets back an HttpOnly
// cookie holding a session credential. The credential is a short-lived key
// in the key store (its scopes the presenting key's, expires_at set), so
// sessions need no table of their own, work on every instance that shares
// the store, show in the key list, and end on sign-out by revocation.
//
// The cookie is only ever accepted from the server's own pages: it is
// SameSite=Strict, a request whose Sec-Fetch-Site or Origin says it comes
// from another site is refused, and a write must carry the CSRFHeader,
// which a cross-site page cannot send without a CORS preflight this server
// never grants.

// The session cookie, the header writes through it need, and how long a
// session lasts by default (a long shift).
const (
	SessionCookie     = "sety_session"
	CSRFHeader        = "X-Sety-CSRF"
	DefaultSessionTTL = 12 * time.Hour
)

// sessionName names a session's credential after the key that started it,
// so the key list says where each session came from.
func sessionName(keyID string) string { return "Console session of " + keyID }

// StartSession issues the session credential of the principal p, which
// must have presented an API key (a session cannot prolong itself). The
// credential holds p's scopes and expires after Config.SessionTTL, or with
// p's key if that is sooner. The secret is returned this once.
func (s *Service) StartSession(ctx context.Context, p *Principal) (*APIKey, string, error) {
	if p.Session {
		return nil, "", setyerr.E(setyerr.Forbidden, "a session cannot start another: sign in with an API key")
	}
	expires := clock.Stamp(s.now).Add(s.sessionTTL)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(expires) {
		expires = p.ExpiresAt
	}
	return s.IssueKey(ctx, p.Tenant, KeySpec{Name: sessionName(p.KeyID), Scopes: p.Scopes, ExpiresAt: expires})
}

// EndSession revokes the session the principal signed in with: from the
// next request on (on other instances: within their KeyCacheTTL) its
// cookie is refused. A principal authenticated with an API key is a
// Conflict: keys are revoked through the key operations.
func (s *Service) EndSession(ctx context.Context, p *Principal) (*APIKey, error) {
	if !p.Session {
		return nil, setyerr.E(setyerr.Conflict, "the request was not made with a session: revoke API keys with DELETE /api-keys/{keyId}")
	}
	return s.RevokeKey(ctx, p.Tenant, p.KeyID)
}

// credential returns the raw key a request presents and whether it came
// from the session cookie: the Authorization header wins; without one, the
// cookie, when the request comes from this server's own pages. ("", false,
// nil) means the request presents nothing.
func credential(ctx huma.Context) (raw string, session bool, err error) {
	if h := ctx.Header("Authorization"); h != "" {
		raw, ok := bearer(h)
		if !ok {
			return "", false, errUnauthenticated
		}
		return raw, false, nil
	}
	c, err := huma.ReadCookie(ctx, SessionCookie)
	if err != nil || c.Value == "" {
		return "", false, nil
	}
	if crossSite(ctx) {
		return "", false, setyerr.E(setyerr.Unauthenticated, "the session cookie is not accepted on a cross-site request; send an API key")
	}
	switch ctx.Method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if ctx.Header(CSRFHeader) == "" {
			return "", false, setyerr.E(setyerr.Forbidden, "a write made with the session cookie must carry the %s header", CSRFHeader)
		}
	}
	return c.Value, true, nil
}

// crossSite reports whether a request says it comes from another site: a
// Sec-Fetch-Site other than same-origin (every current browser sends it),
// or an Origin whose host is not the request's.
func crossSite(ctx huma.Context) bool {
	if site := ctx.Header("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return true
	}
	if origin := ctx.Header("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, ctx.Host()) {
			return true
		}
	}
	return false
}

// overTLS reports whether the client reached the server over TLS, directly
// or through a proxy that says so. Believing the header is safe: a false
// "https" only makes the cookie Secure, which the browser then keeps off
// plain-HTTP requests.
func overTLS(ctx huma.Context) bool {
	return ctx.TLS() != nil || strings.EqualFold(ctx.Header("X-Forwarded-Proto"), "https")
}

// sessionCookie is the cookie that carries secret until expires; an empty
// secret gives the cookie that deletes it.
func sessionCookie(path, secret string, expires time.Time, secure bool, now time.Time) http.Cookie {
	c := http.Cookie{Name: SessionCookie, Value: secret, Path: path, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
	if secret == "" {
		c.MaxAge = -1
		return c
	}
	c.Expires = expires
	c.MaxAge = max(1, int(expires.Sub(now)/time.Second))
	return c
}
