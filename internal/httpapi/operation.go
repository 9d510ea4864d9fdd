package httpapi

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// Metadata keys Sety puts on its operations.
const (
	metaSety  = "sety"       // marks an operation as Sety's, for the error hook
	metaScope = "sety.scope" // the scopes ([]string) the operation accepts; absent: public
)

// MaxBodyBytes is the request body limit of the contract (64 KiB); larger
// bodies get 413. huma rejects a body that reaches its limit, so the limit
// handed to huma is one byte more.
const MaxBodyBytes = 64 << 10

// SecurityScheme is the name of the bearer-key scheme in the OpenAPI document.
const SecurityScheme = "bearerAuth"

// Meta is the metadata of a Sety operation (huma.Operation.Metadata):
// the scope it needs, from [Scope], and the example fields of [Meta.Example].
// An operation with no scope is public and needs none.
type Meta map[string]any

// Scope is the metadata of an operation that needs one of scopes.
func Scope[S ~string](scopes ...S) Meta {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	return Meta{metaScope: names}
}

// Example lays fields over the example composed for the body of status,
// where the schema's own examples do not fit that status (a create's
// replay answers "idempotent": true).
func (m Meta) Example(status int, fields map[string]any) Meta {
	out := maps.Clone(m)
	if out == nil {
		out = Meta{}
	}
	examples := maps.Clone(exampleOverrides(out))
	if examples == nil {
		examples = map[int]map[string]any{}
	}
	examples[status] = fields
	out[metaExample] = examples
	return out
}

// IsSety reports whether op was registered through this package.
func IsSety(op *huma.Operation) bool {
	if op == nil {
		return false
	}
	_, ok := op.Metadata[metaSety]
	return ok
}

// ScopeOf returns the scopes op accepts (a key needs one of them) and
// whether it requires any. The slice is the operation's own, kept in its
// metadata (every authenticated request asks, twice): callers only read it.
func ScopeOf(op *huma.Operation) ([]string, bool) {
	if op == nil {
		return nil, false
	}
	s, ok := op.Metadata[metaScope].([]string)
	return s, ok
}

// authErrors are the statuses every authenticated operation may answer:
// authentication and the rate limit read storage, so 503 too.
var authErrors = []int{http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusTooManyRequests,
	http.StatusServiceUnavailable}

// bodyErrors are the statuses every operation with a request body may answer.
var bodyErrors = []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}

// Shared is what every Sety operation of an API has in common beyond
// what huma derives from its Go types; [NewGroup] applies it.
type Shared struct {
	// Security is the security requirement of every operation that needs
	// a scope. Nil: Sety's bearer API key ([SecurityScheme]); empty: none
	// stated (a host authenticates with schemes of its own, or none).
	Security []map[string][]string
	// Unauthorized is the meaning of a 401, when another authentication
	// than Sety's API keys refuses requests.
	Unauthorized string
}

// NewGroup returns a group of api whose operations are Sety's: register
// each with huma.Register and a handler wrapped in [Errors]. Its modifier
// does what they all share, from what the operation states
// (huma.Operation's own fields, and its scope in Metadata, see [Scope]):
//
//   - the body limit of the contract (64 KiB, [MaxBodyBytes]);
//   - security: the API key (or shared.Security) where a scope is needed,
//     none stated on a public operation; and the sentence naming the
//     scope at the end of the description;
//   - error responses, each with the {code, message} schema, its
//     meaning, the headers it carries and an example: those listed in
//     Errors, and those the operation's shape implies (401, 402, 403, 429
//     and 503 with a scope, 400, 413 and 415 with a body, 400 with a path
//     parameter, always 500). An error status declared in Responses with
//     a description and no content is documented with that meaning instead
//     of the usual one; a 503 of a write says the change may have been made;
//   - success responses: "OK."/"Created."/"Accepted." where huma left its
//     default text, the rate-limit headers where a scope is needed, and
//     the success body on any other 2xx declared in Responses without
//     content (a create's 200 replay).
//
// The modifier changes the operation in place, so the body limit is the
// one huma enforces: register on this group, not on a group that copies
// operations before it. The prefix, if any, is this group's own and is
// put on after the modifier (huma's prefix modifier copies the
// operation): one group, not a group in a prefixed group, so that each
// request's walks through the groups (huma reads the configuration, the
// transformers, the content negotiation and the marshaller through every
// level) take one step fewer.
func NewGroup(api huma.API, shared Shared, prefix ...string) *huma.Group {
	Alias[clock.Time, timeSchema](api.OpenAPI().Components.Schemas)
	g := huma.NewGroup(api)
	g.UseModifier(func(op *huma.Operation, next func(*huma.Operation)) {
		shared.document(api, op)
		next(op)
	})
	if len(prefix) > 0 {
		g.UseModifier(huma.PrefixModifier(prefix))
	}
	return g
}

// document completes op once (huma runs a group's modifiers when it
// documents an operation and again when it routes it).
func (shared Shared) document(api huma.API, op *huma.Operation) {
	if IsSety(op) {
		return
	}
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[metaSety] = true
	op.MaxBodyBytes = MaxBodyBytes + 1
	scopes, scoped := ScopeOf(op)

	// Public operations say so: the document's default is the API key.
	op.Security = []map[string][]string{}
	if scoped {
		op.Security = shared.Security
		if op.Security == nil {
			op.Security = []map[string][]string{{SecurityScheme: {}}}
		}
		if len(scopes) > 1 {
			op.Description += "\n\nRequires one of the scopes `" + strings.Join(scopes, "`, `") + "`."
		} else {
			op.Description += "\n\nRequires scope `" + strings.Join(scopes, "") + "`."
		}
	}

	// The errors huma listed (Errors, with its own 422 and 500 added) and
	// those declared with a meaning of their own.
	listed := map[string]bool{}
	for _, code := range op.Errors {
		listed[strconv.Itoa(code)] = true
	}
	errs := slices.Clone(op.Errors)
	meanings := map[int]string{}
	for code, r := range op.Responses {
		status, _ := strconv.Atoi(code)
		if status >= 400 && !listed[code] && len(r.Content) == 0 {
			errs, meanings[status] = append(errs, status), r.Description
		}
	}
	if scoped {
		errs = append(errs, authErrors...)
	}
	if op.RequestBody != nil {
		errs = append(errs, bodyErrors...)
	}
	if strings.Contains(op.Path, "{") {
		// A path id past its maxLength is refused before any look-up.
		errs = append(errs, http.StatusBadRequest)
	}
	errs = append(errs, http.StatusInternalServerError)
	// Sety answers invalid input 400, never huma's 422; every error is
	// Sety's Error, never huma's default response.
	errs = slices.DeleteFunc(errs, func(code int) bool { return code == http.StatusUnprocessableEntity })
	delete(op.Responses, strconv.Itoa(http.StatusUnprocessableEntity))
	delete(op.Responses, "default")
	slices.Sort(errs)
	op.Errors = slices.Compact(errs)

	status := op.DefaultStatus
	success := op.Responses[strconv.Itoa(status)]
	if success.Description == http.StatusText(status) {
		success.Description = successText(status)
	}
	for code, r := range op.Responses {
		answered, _ := strconv.Atoi(code)
		if answered < 200 || answered >= 300 || r == success || len(r.Content) > 0 {
			continue
		}
		// Another success answered with the same body.
		r.Content = map[string]*huma.MediaType{}
		for ct, mt := range success.Content {
			r.Content[ct] = &huma.MediaType{Schema: mt.Schema}
		}
	}
	errSchema := errorSchema(api.OpenAPI().Components.Schemas)
	for _, code := range op.Errors {
		meaning := meanings[code]
		switch {
		case meaning != "":
		case code == http.StatusUnauthorized && shared.Unauthorized != "":
			meaning = shared.Unauthorized
		case code == http.StatusServiceUnavailable && op.Method != http.MethodGet:
			meaning = unavailableWrite
		}
		op.Responses[strconv.Itoa(code)] = errorResponse(errSchema, code, meaning, scoped)
	}
	for code, r := range op.Responses {
		answered, _ := strconv.Atoi(code)
		if slices.Contains(op.Errors, answered) {
			continue // errorResponse documented its headers
		}
		if r.Headers == nil {
			r.Headers = map[string]*huma.Param{}
		}
		for name, h := range responseHeaders(scoped, answered) {
			if _, set := r.Headers[name]; !set {
				r.Headers[name] = h
			}
		}
	}
}

// Errors wraps a Sety operation's handler so that every error it returns
// leaves as the wire error {code, message} — the one place where a
// domain's errors meet HTTP. Errors of no kind are 500 "internal error",
// their detail logged to log.
func Errors[I, O any](log *slog.Logger, handler func(context.Context, *I) (*O, error)) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, Err(ctx, log, err)
		}
		return out, nil
	}
}

// Error is the wire error as the OpenAPI document names it ("Error", as in
// the public docs). It exists only so huma's registry knows a Go type for
// the schema, which transformers such as huma's schema links look up.
type Error setyerr.Body

// errorSchema registers the wire error once per registry and returns a
// reference to it.
func errorSchema(reg huma.Registry) *huma.Schema {
	return reg.Schema(reflect.TypeFor[Error](), true, "Error")
}

// AddSecurityScheme documents the bearer API key in the OpenAPI document.
func AddSecurityScheme(api huma.API) {
	c := api.OpenAPI().Components
	if c.SecuritySchemes == nil {
		c.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	c.SecuritySchemes[SecurityScheme] = &huma.SecurityScheme{
		Type:        "http",
		Scheme:      "bearer",
		Description: "An API key: `sety_live_...` for production, `sety_test_...` for the sandbox.",
	}
}

// OffUnless returns middleware that answers 404 to every operation needing
// scope when enabled is false, before authentication: to a caller the
// operation does not exist on this server. Its operations stay registered,
// so the document is the same whatever the server enables (see
// DocumentOptional).
func OffUnless(api huma.API, log *slog.Logger, scope string, enabled bool, message string) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		// s is compared by hand: slices.Equal(s, []string{scope}) made a
		// slice per request (it escaped where this is inlined).
		if s, ok := ScopeOf(ctx.Operation()); !enabled && ok && len(s) == 1 && s[0] == scope {
			WriteErr(api, ctx, log, setyerr.E(setyerr.NotFound, "%s", message))
			return
		}
		next(ctx)
	}
}

// DocumentOptional notes on every operation needing scope that it answers
// 404 unless the server enables it, as why says.
func DocumentOptional(api huma.API, scope, why string) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if s, ok := ScopeOf(op); !ok || !slices.Equal(s, []string{scope}) {
				continue
			}
			op.Description += "\n\n" + why
			meaning := errorMeanings[http.StatusNotFound]
			if _, ok := op.Responses["404"]; !ok {
				meaning = "Not found"
			}
			op.Responses["404"] = errorResponse(errorSchema(api.OpenAPI().Components.Schemas), http.StatusNotFound,
				strings.TrimSuffix(meaning, ".")+"; or this server does not enable these operations.", true)
		}
	}
}
