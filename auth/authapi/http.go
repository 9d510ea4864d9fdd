package authapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/setyerr"
)

type principalKey struct{}

// FromContext returns the request's principal. Handlers of scoped operations
// always have one; its absence is a wiring bug and answers 401.
func FromContext(ctx context.Context) (*auth.Principal, error) {
	p, ok := ctx.Value(principalKey{}).(*auth.Principal)
	if !ok {
		return nil, auth.ErrUnauthenticated
	}
	return p, nil
}

// Middleware authenticates every Sety operation that declares a scope (by
// the Authorization header's key, or the console's session cookie from the
// server's own pages) and checks that scope. It answers 401, 402 or 403 itself; handlers run only
// for an authorized principal, which they read with FromContext.
func Middleware(api huma.API, svc *auth.Service, log *slog.Logger) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		scopes, scoped := httpapi.ScopeOf(ctx.Operation())
		if !scoped {
			next(ctx)
			return
		}
		a := &authorized{humaContext: ctx}
		if svc.AuthenticatesRequests() {
			p, err := svc.AuthenticateRequest(request(ctx))
			if err != nil {
				httpapi.WriteErr(api, ctx, log, err)
				return
			}
			a.principal = *p
			admit(api, svc, log, a, next, scopes)
			return
		}
		raw, session, err := credential(ctx)
		if raw == "" || err != nil {
			if err == nil {
				err = auth.ErrUnauthenticated
			}
			if setyerr.Is(err, setyerr.Unauthenticated) {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="sety"`)
			}
			httpapi.WriteErr(api, ctx, log, err)
			return
		}
		if err := svc.AuthenticateInto(ctx.Context(), raw, &a.principal); err != nil {
			if setyerr.Is(err, setyerr.Unauthenticated) {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="sety", error="invalid_token"`)
			}
			httpapi.WriteErr(api, ctx, log, err)
			return
		}
		a.principal.Session = session
		admit(api, svc, log, a, next, scopes)
	}
}

// admit lets an authenticated principal through when its plan's rate limit
// and the operation's scopes allow, setting the rate-limit headers.
func admit(api huma.API, svc *auth.Service, log *slog.Logger, a *authorized, next func(huma.Context), scopes []string) {
	ctx, p := a.humaContext, &a.principal
	// The request's own copy of the scopes (AuthenticateInto's may be
	// shared), in the room kept for them when they fit.
	p.Scopes = append(a.scopes[:0:len(a.scopes)], p.Scopes...)
	a.ctx = principalContext{Context: ctx.Context(), principal: p}
	limit, remaining, reset, err := svc.Limit(ctx.Context(), p)
	if limit > 0 {
		a.setLimitHeaders(limit, remaining, reset)
	}
	if err != nil {
		if setyerr.Is(err, setyerr.RateLimited) {
			wait := max(1, int(math.Ceil(reset.Sub(svc.Now()).Seconds())))
			ctx.SetHeader("Retry-After", strconv.Itoa(wait))
		}
		httpapi.WriteErr(api, ctx, log, err)
		return
	}
	if !slices.ContainsFunc(scopes, func(s string) bool { return p.Can(auth.Scope(s)) }) {
		httpapi.WriteErr(api, ctx, log, setyerr.E(setyerr.Forbidden, "%s lacks scope %s", p.Credential(), strings.Join(scopes, " or ")))
		return
	}
	next(a)
}

type humaContext = huma.Context // embedded under another name: huma.Context has a Context method

// authorized is a request of an authorized principal as the operation's
// handler gets it: the request's huma.Context, whose context.Context
// carries the principal (FromContext), as huma.WithValue would give it.
// The context, the principal, its scopes and the rate-limit headers'
// values are one allocation per request (they were seven).
type authorized struct {
	humaContext
	ctx       principalContext
	principal auth.Principal
	scopes    [4]auth.Scope // the principal's scopes, when they fit
	limits    [3]string     // X-RateLimit-Limit, -Remaining and -Reset, shared with the response's header
}

// Context is the request's context with the principal.
func (a *authorized) Context() context.Context { return &a.ctx }

// Unwrap is the request's context without the principal, as huma's own
// wrappers unwrap.
func (a *authorized) Unwrap() huma.Context { return a.humaContext }

// principalContext is a context.Context carrying a principal, as
// context.WithValue(ctx, principalKey{}, principal) would.
type principalContext struct {
	context.Context
	principal *auth.Principal
}

func (c *principalContext) Value(key any) any {
	if key == (principalKey{}) {
		return c.principal
	}
	return c.Context.Value(key)
}

// setLimitHeaders sets the rate-limit headers: their values are one string
// (so one allocation for the three), and when the request's context is
// the router adapter's own (huma's net/http adapters, whose SetHeader
// sets the header in the http.ResponseWriter's map), the three share one
// array of values in that map instead of a slice each. Through a host's
// wrapper of the context, its SetHeader sets them.
func (a *authorized) setLimitHeaders(limit, remaining int, reset time.Time) {
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], int64(limit), 10)
	i := len(b)
	b = strconv.AppendInt(b, int64(remaining), 10)
	j := len(b)
	b = clock.AppendLayout(b, reset)
	s := string(b)
	a.limits = [3]string{s[:i], s[i:j], s[j:]}
	// The names as net/http writes them (canonical), so that setting
	// them allocates no canonical copy of each name.
	if u, ok := a.humaContext.(interface {
		Unwrap() (*http.Request, http.ResponseWriter)
	}); ok {
		if _, w := u.Unwrap(); w != nil {
			h := w.Header()
			h["X-Ratelimit-Limit"] = a.limits[0:1:1]
			h["X-Ratelimit-Remaining"] = a.limits[1:2:2]
			h["X-Ratelimit-Reset"] = a.limits[2:3:3]
			return
		}
	}
	a.humaContext.SetHeader("X-Ratelimit-Limit", a.limits[0])
	a.humaContext.SetHeader("X-Ratelimit-Remaining", a.limits[1])
	a.humaContext.SetHeader("X-Ratelimit-Reset", a.limits[2])
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Handle adapts a domain handler that needs the caller's tenant into a huma
// handler: it passes the tenant of the principal the middleware stored, and
// says in a NotFound which environment was searched (notFoundIn). Errors
// are mapped to the wire format where the operation is registered
// (httpapi.Errors), not here.
func Handle[I, O any](fn func(ctx context.Context, tenant auth.Tenant, in *I) (*O, error)) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		out, err := fn(ctx, p.Tenant, in)
		return out, notFoundIn(err, p.Env)
	}
}

// notFoundIn adds to a NotFound error the environment the caller's key
// searched: the commonest 404 of a new integration is a test key reading
// what a live key created, or the reverse. The answer is the same whether
// the thing is absent, another organization's or the other environment's,
// so it tells a prober nothing.
func notFoundIn(err error, env auth.Environment) error {
	if err == nil { // first: the target errors.As fills would escape, an allocation per call
		return nil
	}
	var e *setyerr.Error
	if !errors.As(err, &e) || e.Kind != setyerr.NotFound {
		return err
	}
	return &setyerr.Error{Kind: setyerr.NotFound, Err: err,
		Message: fmt.Sprintf("%s in the %s environment (live and test keys see separate data)", e.Message, env)}
}

// request returns the *http.Request behind ctx: the router's own when the
// adapter exposes it (huma's net/http adapters do), else one rebuilt from
// what ctx says (method, URL, headers, host, remote address, TLS state and
// context).
func request(ctx huma.Context) *http.Request {
	for c := ctx; c != nil; {
		if r, ok := c.(interface {
			Unwrap() (*http.Request, http.ResponseWriter)
		}); ok {
			req, _ := r.Unwrap()
			return req
		}
		inner, ok := c.(interface{ Unwrap() huma.Context })
		if !ok {
			break
		}
		c = inner.Unwrap()
	}
	u := ctx.URL()
	r := (&http.Request{Method: ctx.Method(), URL: &url.URL{Path: u.Path, RawQuery: u.RawQuery}, Header: http.Header{},
		Host: ctx.Host(), RemoteAddr: ctx.RemoteAddr(), TLS: ctx.TLS(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}).
		WithContext(ctx.Context())
	ctx.EachHeader(func(name, value string) { r.Header.Add(name, value) })
	return r
}
