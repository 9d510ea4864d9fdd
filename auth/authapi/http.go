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
		if svc.AuthenticatesRequests() {
			p, err := svc.AuthenticateRequest(request(ctx))
			if err != nil {
				httpapi.WriteErr(api, ctx, log, err)
				return
			}
			admit(api, svc, log, ctx, next, p, scopes)
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
		p, err := svc.Authenticate(ctx.Context(), raw)
		if err != nil {
			if setyerr.Is(err, setyerr.Unauthenticated) {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="sety", error="invalid_token"`)
			}
			httpapi.WriteErr(api, ctx, log, err)
			return
		}
		p.Session = session
		admit(api, svc, log, ctx, next, p, scopes)
	}
}

// admit lets an authenticated principal through when its plan's rate limit
// and the operation's scopes allow, setting the rate-limit headers.
func admit(api huma.API, svc *auth.Service, log *slog.Logger, ctx huma.Context, next func(huma.Context), p *auth.Principal, scopes []string) {
	limit, remaining, reset, err := svc.Limit(ctx.Context(), p)
	if limit > 0 {
		// The names as net/http writes them (canonical), so that setting
		// them allocates no canonical copy of each name at every request.
		ctx.SetHeader("X-Ratelimit-Limit", strconv.Itoa(limit))
		ctx.SetHeader("X-Ratelimit-Remaining", strconv.Itoa(remaining))
		ctx.SetHeader("X-Ratelimit-Reset", clock.Format(reset))
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
	next(huma.WithValue(ctx, principalKey{}, p))
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
