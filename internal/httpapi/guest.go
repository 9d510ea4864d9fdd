package httpapi

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// SchemasRef is where schemas are referenced from, as in huma's default
// configuration.
const SchemasRef = "#/components/schemas/"

// Guest is a huma.API through which a library registers its operations on
// a host's API without touching the host until everything it would add has
// been checked against what the host has. Operations registered on it go
// to a document of its own, whose registry names every schema with the
// guest's prefix (so a host's Location and the guest's never meet), and
// their routes are recorded, not routed. Commit then checks operation ids,
// paths, schema names, security schemes and webhooks against the host's
// document, and only when none clashes routes the operations on the host's
// adapter and adds them to the host's document. Everything else — content
// negotiation, transformers, the host's middlewares, its configuration — is
// the host's.
//
// huma panics on a duplicate schema name or operation id; the guest turns
// each clash into an error before anything of the host is changed.
type Guest struct {
	host     huma.API
	doc      *huma.OpenAPI
	routes   *recorder
	idPrefix string
	mws      huma.Middlewares
	// sameJSON holds, per content type, whether the host's format writes
	// what EncodeJSON writes (Marshal, encoded.go). The host negotiates
	// among its own formats, so it has a few entries at most.
	sameJSON sync.Map
	// sameDecode holds, per content type, whether the host's format
	// decodes into an any as encoding/json does (Unmarshal, decodeany.go).
	sameDecode sync.Map
	// config is the host's Config method, if it has one: huma reads the
	// configuration at every request, and finding the method once spares
	// each request a dynamic interface check.
	config func() huma.Config
}

// NewGuest returns a guest of host whose schema names start with
// schemaPrefix and operation ids with idPrefix.
func NewGuest(host huma.API, schemaPrefix, idPrefix string) *Guest {
	namer := func(t reflect.Type, hint string) string { return schemaPrefix + huma.DefaultSchemaNamer(t, hint) }
	doc := &huma.OpenAPI{
		OpenAPI: host.OpenAPI().OpenAPI,
		Components: &huma.Components{
			Schemas:         huma.NewMapRegistry(SchemasRef, namer),
			SecuritySchemes: map[string]*huma.SecurityScheme{},
		},
	}
	g := &Guest{host: host, doc: doc, routes: &recorder{host: host.Adapter()}, idPrefix: idPrefix}
	if c, ok := host.(interface{ Config() huma.Config }); ok {
		g.config = c.Config
	}
	return g
}

// recorder is the guest's adapter: it keeps the routes until Commit.
type recorder struct {
	host   huma.Adapter
	routes []route
}

type route struct {
	op      *huma.Operation
	handler func(huma.Context)
}

func (r *recorder) Handle(op *huma.Operation, handler func(huma.Context)) {
	r.routes = append(r.routes, route{op, handler})
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.host.ServeHTTP(w, req) }

// Adapter records routes for Commit.
func (g *Guest) Adapter() huma.Adapter { return g.routes }

// OpenAPI is the guest's own document, merged into the host's by Commit.
func (g *Guest) OpenAPI() *huma.OpenAPI { return g.doc }

// DocumentOperation adds op to the guest's document under its prefixed id.
func (g *Guest) DocumentOperation(op *huma.Operation) {
	if op.Hidden {
		return
	}
	if op.OperationID != "" {
		op.OperationID = g.idPrefix + op.OperationID
	}
	g.doc.AddOperation(op)
}

// Config is the host's configuration, which huma reads at request time.
func (g *Guest) Config() huma.Config {
	if g.config != nil {
		return g.config()
	}
	return huma.Config{}
}

// Negotiate is the host's.
func (g *Guest) Negotiate(accept string) (string, error) { return g.host.Negotiate(accept) }

// Transform runs the host's transformers.
func (g *Guest) Transform(ctx huma.Context, status string, v any) (any, error) {
	return g.host.Transform(ctx, status, v)
}

// UseMiddleware adds middleware to the guest's operations only.
func (g *Guest) UseMiddleware(mws ...func(huma.Context, func(huma.Context))) {
	g.mws = append(g.mws, mws...)
}

// Middlewares are the host's, then the guest's own.
func (g *Guest) Middlewares() huma.Middlewares {
	return append(slices.Clone(g.host.Middlewares()), g.mws...)
}

// Clash is something the guest would add that the host already has.
type Clash struct {
	What string // "schema", "operation id", "route", "security scheme", "webhook"
	Name string // the name both have: "Location", "list-incidents", "GET /health"
	// Host describes the host's: the Go type of its schema, the route it
	// conflicts with.
	Host string
	// Guest describes the guest's, e.g. its Go type.
	Guest string
}

func (c *Clash) Error() string {
	msg := fmt.Sprintf("%s %s is already in the host's API", c.What, c.Name)
	if c.Host != "" {
		msg += " (" + c.Host + ")"
	}
	if c.Guest != "" {
		msg += ", new: " + c.Guest
	}
	return msg
}

// Commit checks the guest's operations against the host and, when nothing
// clashes, routes them on the host's adapter and adds its document to the
// host's. It returns the first clash. Routes whose path is outside
// insidePath are routed first: a host is likelier to have routed a root
// path of its own than one inside the guest's prefix. A route the host's
// router refuses (it panics, as net/http does on a conflicting pattern) is
// a Clash too; routes routed before it stay routed, so a host must not
// serve after an error.
func (g *Guest) Commit(insidePath string) error {
	host := g.host.OpenAPI()
	if err := g.check(host); err != nil {
		return err
	}
	routes := slices.Clone(g.routes.routes)
	slices.SortStableFunc(routes, func(a, b route) int {
		ia, ib := strings.HasPrefix(a.op.Path, insidePath), strings.HasPrefix(b.op.Path, insidePath)
		switch {
		case ia == ib:
			return 0
		case ib:
			return -1
		}
		return 1
	})
	for _, r := range routes {
		if documented := findOperation(g.doc, r.op.Method, r.op.Path); documented != nil {
			r.op.OperationID = documented.OperationID // the router's copy of a group operation
		}
		if err := handle(g.routes.host, r); err != nil {
			return err
		}
	}
	g.merge(host)
	return nil
}

// handle routes r on the host, turning the router's panic into a Clash.
func handle(a huma.Adapter, r route) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Clash{What: "route", Name: r.op.Method + " " + r.op.Path, Host: fmt.Sprint(p)}
		}
	}()
	a.Handle(r.op, r.handler)
	return nil
}

// check finds the first clash between the guest's document and host.
func (g *Guest) check(host *huma.OpenAPI) error {
	hostIDs := map[string]bool{}
	forEachOperation(host, func(_ string, op *huma.Operation) { hostIDs[op.OperationID] = true })
	for _, hook := range host.Webhooks {
		forEachOf(hook, func(op *huma.Operation) { hostIDs[op.OperationID] = true })
	}
	var clash error
	forEachOperation(g.doc, func(path string, op *huma.Operation) {
		switch {
		case clash != nil:
		case op.OperationID != "" && hostIDs[op.OperationID]:
			clash = &Clash{What: "operation id", Name: op.OperationID}
		case findOperation(host, op.Method, path) != nil:
			clash = &Clash{What: "route", Name: op.Method + " " + path, Host: "operation " + findOperation(host, op.Method, path).OperationID}
		}
	})
	if clash != nil {
		return clash
	}
	for _, name := range sortedKeys(g.doc.Components.Schemas.Map()) {
		if _, taken := host.Components.Schemas.Map()[name]; !taken {
			continue
		}
		ours, theirs := g.doc.Components.Schemas.TypeFromRef(SchemasRef+name), hostType(host, name)
		if ours == nil || ours != theirs {
			return &Clash{What: "schema", Name: name, Host: typeName(theirs), Guest: typeName(ours)}
		}
	}
	if host.Components.SecuritySchemes != nil {
		for name, s := range g.doc.Components.SecuritySchemes {
			if have, ok := host.Components.SecuritySchemes[name]; ok && !reflect.DeepEqual(have, s) {
				return &Clash{What: "security scheme", Name: name}
			}
		}
	}
	for name := range g.doc.Webhooks {
		if _, ok := host.Webhooks[name]; ok {
			return &Clash{What: "webhook", Name: name}
		}
	}
	for _, hook := range g.doc.Webhooks {
		forEachOf(hook, func(op *huma.Operation) {
			if clash == nil && hostIDs[op.OperationID] {
				clash = &Clash{What: "operation id", Name: op.OperationID}
			}
		})
	}
	return clash
}

// hostType is the Go type of the host's schema name, nil when the host's
// registry cannot say (it is not huma's map registry, or the schema was
// added by hand).
func hostType(host *huma.OpenAPI, name string) (t reflect.Type) {
	defer func() { _ = recover() }() // a registry that cannot resolve the ref
	return host.Components.Schemas.TypeFromRef(SchemasRef + name)
}

func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return "Go type " + t.String()
}

// merge adds the guest's document to host's. The host's OnAddOperation
// hooks do not run: they were written for the host's types, and the host's
// registry cannot resolve the guest's (huma's schema-link transformer
// would fail on them).
func (g *Guest) merge(host *huma.OpenAPI) {
	schemas := host.Components.Schemas.Map()
	for name, s := range g.doc.Components.Schemas.Map() {
		if _, shared := schemas[name]; !shared {
			schemas[name] = s
		}
	}
	if host.Paths == nil {
		host.Paths = map[string]*huma.PathItem{}
	}
	forEachOperation(g.doc, func(path string, op *huma.Operation) {
		item := host.Paths[path]
		if item == nil {
			item = &huma.PathItem{}
			host.Paths[path] = item
		}
		setOperation(item, op)
	})
	if len(g.doc.Components.SecuritySchemes) > 0 && host.Components.SecuritySchemes == nil {
		host.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	for name, s := range g.doc.Components.SecuritySchemes {
		host.Components.SecuritySchemes[name] = s
	}
	for _, t := range g.doc.Tags {
		if !slices.ContainsFunc(host.Tags, func(have *huma.Tag) bool { return have.Name == t.Name }) {
			host.Tags = append(host.Tags, t)
		}
	}
	if len(g.doc.Webhooks) > 0 && host.Webhooks == nil {
		host.Webhooks = map[string]*huma.PathItem{}
	}
	for name, hook := range g.doc.Webhooks {
		host.Webhooks[name] = hook
	}
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// findOperation returns doc's operation of method on a path that routes
// the same requests as path (parameter names aside), or nil.
func findOperation(doc *huma.OpenAPI, method, path string) *huma.Operation {
	want := pathParam.ReplaceAllString(path, "{}")
	var found *huma.Operation
	forEachOperation(doc, func(p string, op *huma.Operation) {
		if found == nil && op.Method == method && pathParam.ReplaceAllString(p, "{}") == want {
			found = op
		}
	})
	return found
}

// forEachOperation calls fn with every operation of doc, in path order.
func forEachOperation(doc *huma.OpenAPI, fn func(path string, op *huma.Operation)) {
	for _, path := range sortedKeys(doc.Paths) {
		forEachOf(doc.Paths[path], func(op *huma.Operation) { fn(path, op) })
	}
}

func forEachOf(item *huma.PathItem, fn func(*huma.Operation)) {
	if item == nil {
		return
	}
	for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch, item.Trace} {
		if op != nil {
			fn(op)
		}
	}
}

func setOperation(item *huma.PathItem, op *huma.Operation) {
	switch op.Method {
	case http.MethodGet:
		item.Get = op
	case http.MethodPost:
		item.Post = op
	case http.MethodPut:
		item.Put = op
	case http.MethodPatch:
		item.Patch = op
	case http.MethodDelete:
		item.Delete = op
	case http.MethodHead:
		item.Head = op
	case http.MethodOptions:
		item.Options = op
	case http.MethodTrace:
		item.Trace = op
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
