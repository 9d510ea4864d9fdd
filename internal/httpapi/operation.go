package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// Metadata keys Sety puts on its operations.
const (
	metaSety  = "sety"       // marks an operation as Sety's, for the error hook
	metaScope = "sety.scope" // the scope the operation needs; absent: public
)

// MaxBodyBytes is the request body limit of the contract (64 KiB); larger
// bodies get 413. huma rejects a body that reaches its limit, so the limit
// handed to huma is one byte more.
const MaxBodyBytes = 64 << 10

// SecurityScheme is the name of the bearer-key scheme in the OpenAPI document.
const SecurityScheme = "bearerAuth"

// Spec describes one Sety operation.
type Spec struct {
	ID          string // operation id, e.g. "list-incidents"
	Method      string
	Path        string
	Tag         string
	Summary     string
	Description string
	Scope       string // required scope ("a,b": any one of them); "" for a public operation
	// Stream documents the success response as Server-Sent Events.
	Stream bool
	Status int // success status; default 200
	// Also names further statuses answered with the success body, each
	// with when it is sent (a create that replays an earlier one: 200).
	Also map[int]string
	// Errors are error statuses besides those the operation's shape implies:
	// scoped operations answer 401, 402, 403, 429 and 503 (authenticating
	// reads storage); those with a body 400, 413 and 415; those with a path
	// parameter 400; every one 500.
	Errors []int
	// Describe overrides the documented meaning of a status, e.g. a 404 that
	// may also mean a feature is off.
	Describe map[int]string
	// Example holds fields laid over the example composed for a status's
	// body, where the schema's own examples do not fit that status.
	Example map[int]map[string]any
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
// whether it requires any.
func ScopeOf(op *huma.Operation) ([]string, bool) {
	if op == nil {
		return nil, false
	}
	s, ok := op.Metadata[metaScope].(string)
	return strings.Split(s, ","), ok
}

// authErrors are the statuses every authenticated operation may answer:
// authentication and the rate limit read storage, so 503 too.
var authErrors = []int{http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusTooManyRequests,
	http.StatusServiceUnavailable}

// bodyErrors are the statuses every operation with a request body may answer.
var bodyErrors = []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}

// Ops is where one domain mounts its operations: the API, and the logger
// that receives the detail of internal errors.
type Ops struct {
	API huma.API
	Log *slog.Logger
}

// Register adds a Sety operation: it documents its scope, its success and
// error responses (each error with the {code, message} schema, the headers
// it carries and an example), applies the body limit, and turns every error
// the handler returns into the wire error — the one place where a domain's
// errors meet HTTP.
func Register[I, O any](ops Ops, spec Spec, handler func(context.Context, *I) (*O, error)) {
	api := ops.API
	errs := slices.Clone(spec.Errors)
	if spec.Scope != "" {
		errs = append(errs, authErrors...)
	}
	if _, body := reflect.TypeFor[I]().FieldByName("Body"); body {
		errs = append(errs, bodyErrors...)
	}
	if strings.Contains(spec.Path, "{") {
		// A path id past its maxLength is refused before any look-up.
		errs = append(errs, http.StatusBadRequest)
	}
	errs = append(errs, http.StatusInternalServerError)
	slices.Sort(errs)
	errs = slices.Compact(errs)

	status := spec.Status
	if status == 0 {
		status = http.StatusOK
	}
	scoped := spec.Scope != ""
	responses := map[string]*huma.Response{
		strconv.Itoa(status): {Description: successText(status), Headers: responseHeaders(scoped, status)},
	}
	op := huma.Operation{
		OperationID:   spec.ID,
		Method:        spec.Method,
		Path:          spec.Path,
		Tags:          []string{spec.Tag},
		Summary:       spec.Summary,
		Description:   spec.Description,
		DefaultStatus: spec.Status,
		MaxBodyBytes:  MaxBodyBytes + 1,
		Metadata:      map[string]any{metaSety: true, metaExample: spec.Example},
		Responses:     responses,
		// Public operations say so: the document's default is the API key.
		Security: []map[string][]string{},
	}
	errSchema := errorSchema(api.OpenAPI().Components.Schemas)
	for _, code := range errs {
		meaning := spec.Describe[code]
		if meaning == "" && code == http.StatusServiceUnavailable && spec.Method != http.MethodGet {
			meaning = unavailableWrite
		}
		responses[strconv.Itoa(code)] = errorResponse(errSchema, code, meaning, scoped)
	}
	if scoped {
		op.Metadata[metaScope] = spec.Scope
		op.Security = []map[string][]string{{SecurityScheme: {}}}
		if scopes := strings.Split(spec.Scope, ","); len(scopes) > 1 {
			op.Description += "\n\nRequires one of the scopes `" + strings.Join(scopes, "`, `") + "`."
		} else {
			op.Description += "\n\nRequires scope `" + spec.Scope + "`."
		}
	}
	if spec.Stream {
		op.Responses["200"] = &huma.Response{
			Description: "A stream of Server-Sent Events.",
			Headers:     responseHeaders(scoped, http.StatusOK),
			Content:     map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeString}}},
		}
	}
	huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, Err(ctx, ops.Log, err)
		}
		return out, nil
	})
	// huma has filled in the success body's schema; the other successes share it.
	success := responses[strconv.Itoa(status)]
	for code, when := range spec.Also {
		content := map[string]*huma.MediaType{}
		for ct, mt := range success.Content {
			content[ct] = &huma.MediaType{Schema: mt.Schema}
		}
		responses[strconv.Itoa(code)] = &huma.Response{Description: when, Headers: responseHeaders(scoped, code), Content: content}
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
		if s, ok := ScopeOf(ctx.Operation()); !enabled && ok && slices.Equal(s, []string{scope}) {
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
