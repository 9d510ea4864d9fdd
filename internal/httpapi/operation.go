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
	ID          string // operation id, e.g. "create-incident"
	Method      string
	Path        string
	Tag         string
	Summary     string
	Description string
	Scope       string // required scope ("a,b": any one of them); "" for a public operation
	// Stream documents the success response as Server-Sent Events.
	Stream bool
	Status int   // success status; default 200
	Errors []int // error statuses besides those every scoped operation has
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

// authErrors are the statuses every authenticated operation may answer.
var authErrors = []int{http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden}

// Ops is where one domain mounts its operations: the API, and the logger
// that receives the detail of internal errors.
type Ops struct {
	API huma.API
	Log *slog.Logger
}

// Register adds a Sety operation: it documents its scope and every error
// status with the {code, message} schema, applies the body limit, and turns
// every error the handler returns into the wire error — the one place
// where a domain's errors meet HTTP.
func Register[I, O any](ops Ops, spec Spec, handler func(context.Context, *I) (*O, error)) {
	api := ops.API
	errs := slices.Clone(spec.Errors)
	if spec.Scope != "" {
		errs = append(errs, authErrors...)
	}
	errs = append(errs, http.StatusInternalServerError)
	slices.Sort(errs)
	errs = slices.Compact(errs)

	op := huma.Operation{
		OperationID:   spec.ID,
		Method:        spec.Method,
		Path:          spec.Path,
		Tags:          []string{spec.Tag},
		Summary:       spec.Summary,
		Description:   spec.Description,
		DefaultStatus: spec.Status,
		MaxBodyBytes:  MaxBodyBytes + 1,
		Metadata:      map[string]any{metaSety: true},
		Responses:     map[string]*huma.Response{},
	}
	errSchema := errorSchema(api.OpenAPI().Components.Schemas)
	for _, code := range errs {
		op.Responses[strconv.Itoa(code)] = &huma.Response{
			Description: http.StatusText(code),
			Content:     map[string]*huma.MediaType{"application/json": {Schema: errSchema}},
		}
	}
	if spec.Scope != "" {
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
