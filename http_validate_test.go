package sety_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contract checks responses against the OpenAPI document the API serves:
// every response of a documented operation must have a documented status,
// carry the headers its response requires (and those it documents must fit
// their schemas) and a body that fits the documented schema. The harness
// checks every response it sees, so the document cannot drift from the
// server without a test failing.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var contracts sync.Map // document JSON → *contract; harnesses share the parse

// contractOf loads the document api serves.
func contractOf(t testing.TB, api huma.API) *contract {
	t.Helper()
	raw, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := contracts.Load(string(raw)); ok {
		return c.(*contract)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("the served OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served OpenAPI document is invalid: %v", err)
	}
	// Route by path alone, whatever host the test request names.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &contract{doc: doc, router: router}
	contracts.Store(string(raw), c)
	return c
}

// check reports how rec, the response to req, differs from the document,
// or nil. Requests that match no documented operation (unknown routes,
// wrong methods, the document and docs pages) are left alone, unless they
// were answered with anything but a routing error.
func (c *contract) check(req *http.Request, rec *httptest.ResponseRecorder) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		path := req.URL.Path
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed ||
			path == "/docs" || strings.HasPrefix(path, "/openapi") || strings.HasPrefix(path, "/schemas/") {
			return nil
		}
		return errors.New("answered " + http.StatusText(rec.Code) + " on a route the document does not have")
	}
	alternative, err := c.checkAlternative(route, rec)
	if err != nil {
		return err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		// A stream's body is a sequence of events, which a schema cannot
		// state; an alternative media type's body was checked above.
		ExcludeResponseBody: alternative || strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream")}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "at /" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                opts,
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// checkAlternative checks a body answered in a media type the response
// names in its x-alternative-content extension (GeoJSON, asked for with
// Accept) against the schema it names there, and says whether it did.
func (c *contract) checkAlternative(route *routers.Route, rec *httptest.ResponseRecorder) (bool, error) {
	response := route.Operation.Responses.Status(rec.Code)
	if response == nil || response.Value == nil {
		return false, nil
	}
	alternatives, _ := response.Value.Extensions["x-alternative-content"].(map[string]any)
	media, _ := alternatives[rec.Header().Get("Content-Type")].(map[string]any)
	if media == nil {
		return false, nil
	}
	schema, _ := media["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	named := c.doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	if named == nil || named.Value == nil {
		return true, errors.New("x-alternative-content names no schema of the document: " + ref)
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		return true, err
	}
	return true, named.Value.VisitJSON(body)
}

// checked wraps h so every response it writes is checked against c once
// it is complete; the response goes through as it is written (a stream
// streams).
func (c *contract) checked(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(tee{w, rec}, r)
		if err := c.check(r, rec); err != nil {
			body := rec.Body.String()
			if len(body) > 500 {
				body = body[:500] + "…"
			}
			t.Errorf("%s %s → %d does not match the OpenAPI document:\n%.1000v\nbody: %s", r.Method, r.URL, rec.Code, err, body)
		}
	})
}

// tee writes a response to w and records it in rec.
type tee struct {
	w   http.ResponseWriter
	rec *httptest.ResponseRecorder
}

func (t tee) Header() http.Header { return t.w.Header() }

func (t tee) WriteHeader(status int) {
	maps.Copy(t.rec.Header(), t.w.Header())
	t.rec.WriteHeader(status)
	t.w.WriteHeader(status)
}

func (t tee) Write(b []byte) (int, error) {
	maps.Copy(t.rec.Header(), t.w.Header()) // for an implicit 200
	_, _ = t.rec.Write(b)
	return t.w.Write(b)
}

func (t tee) Unwrap() http.ResponseWriter { return t.w }

// checkedAPI is a huma API whose adapter checks every response, for
// humatest: requests sent with h.api are checked too.
type checkedAPI struct {
	huma.API
	adapter huma.Adapter
}

func (a checkedAPI) Adapter() huma.Adapter { return a.adapter }

type checkedAdapter struct {
	huma.Adapter
	handler http.Handler
}

func (a checkedAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// wrap returns handler and api with every response checked against c.
func (c *contract) wrap(t testing.TB, handler http.Handler, api huma.API) (http.Handler, huma.API) {
	adapter := api.Adapter()
	return c.checked(t, handler), checkedAPI{API: api, adapter: checkedAdapter{Adapter: adapter, handler: c.checked(t, adapter)}}
}

// checkDelivery reports how a webhook delivery (its request and body)
// differs from the document's webhook of its event type, or nil.
func (c *contract) checkDelivery(r *http.Request, body []byte) error {
	var event struct{ Type string }
	if err := json.Unmarshal(body, &event); err != nil {
		return err
	}
	item := c.doc.Webhooks[event.Type]
	if item == nil || item.Post == nil {
		return errors.New("the document has no webhook " + event.Type)
	}
	for _, p := range item.Post.Parameters {
		if p.Value.In == "header" && p.Value.Required && r.Header.Get(p.Value.Name) == "" {
			return errors.New("no " + p.Value.Name + " header")
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}
