package authapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/setyerr"
)

// How a request presents a session (auth's session.go says why it is
// safe): the cookie, accepted from the server's own pages only.

// credential returns the raw key a request presents and whether it came
// from the session cookie: the Authorization header wins; without one, the
// cookie, when the request comes from this server's own pages. ("", false,
// nil) means the request presents nothing.
func credential(ctx huma.Context) (raw string, session bool, err error) {
	if h := ctx.Header("Authorization"); h != "" {
		raw, ok := bearer(h)
		if !ok {
			return "", false, auth.ErrUnauthenticated
		}
		return raw, false, nil
	}
	c, err := huma.ReadCookie(ctx, auth.SessionCookie)
	if err != nil || c.Value == "" {
		return "", false, nil
	}
	if crossSite(ctx) {
		return "", false, setyerr.E(setyerr.Unauthenticated, "the session cookie is not accepted on a cross-site request; send an API key")
	}
	switch ctx.Method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if ctx.Header(auth.CSRFHeader) == "" {
			return "", false, setyerr.E(setyerr.Forbidden, "a write made with the session cookie must carry the %s header", auth.CSRFHeader)
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
	c := http.Cookie{Name: auth.SessionCookie, Value: secret, Path: path, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
	if secret == "" {
		c.MaxAge = -1
		return c
	}
	c.Expires = expires
	c.MaxAge = max(1, int(expires.Sub(now)/time.Second))
	return c
}
