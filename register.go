package sety

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/access/accessapi"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/auth/authapi"
	"github.com/sety-io/sety/incident/incidentapi"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/stream"
	"github.com/sety-io/sety/threat/threatapi"
	"github.com/sety-io/sety/webhook/webhookapi"
)

// guestConfig is how Sety mounts in a host's API: the names it takes there
// and whose authentication it uses.
type guestConfig struct {
	namePrefix    string
	authenticator auth.Authenticator
	// schemes are the host's security schemes Sety's operations state when
	// the host authenticates (nil: none).
	schemes []string
}

// WithNamePrefix prefixes every schema name and operation id Sety adds to
// the host's OpenAPI document, so they cannot clash with the host's own: with
// "Safety", incident.Location is the schema SafetyLocation and the
// operation list-incidents is safety-list-incidents (the prefix in
// lowercase words joined by "-", then "-"). The prefix is a letter then
// letters and digits. Default: none, the names of the Sety v1 document.
func WithNamePrefix(prefix string) Option { return func(c *config) { c.guest.namePrefix = prefix } }

// WithAuthenticator makes authn, not Sety's API keys, authenticate every
// Sety operation: the host maps its own request (its session, its JWT, its
// client certificate) to the principal Sety acts for. The principal names
// a Sety organization (created with Auth.CreateOrganization) and its
// environment, the scopes it holds and its plan, whose rate limit applies
// per organization and environment as with keys; a suspended organization
// is refused (402). An error from authn, or no principal, is a 401 in
// Sety's error shape with the error's text; return a setyerr error to
// choose another status (setyerr.Forbidden: 403).
//
// schemes name the host's security schemes (in its document's
// components, e.g. "sessionCookie") that Sety's operations state in the
// OpenAPI document; none: Sety's operations state no security. Sety's own
// bearer scheme is then not added.
func WithAuthenticator(authn auth.Authenticator, schemes ...string) Option {
	return func(c *config) { c.guest.authenticator, c.guest.schemes = authn, schemes }
}

var namePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)

func (g guestConfig) check() error {
	if g.namePrefix != "" && !namePrefix.MatchString(g.namePrefix) {
		return fmt.Errorf("sety: name prefix %q: must be a letter then letters and digits", g.namePrefix)
	}
	return nil
}

// operationPrefix is the prefix of operation ids: "SafetyNet" gives
// "safety-net-".
func (g guestConfig) operationPrefix() string {
	if g.namePrefix == "" {
		return ""
	}
	var b strings.Builder
	for i, r := range g.namePrefix {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String() + "-"
}

// Register mounts every Sety operation on api under the base path and
// makes their errors {code, message}; other operations on api are left as
// they are. It first builds everything it would add apart, then checks it
// against api: an operation id, a schema name, a route or a security scheme
// that api already has is an error naming the clash and the option that
// avoids it, and api is left unchanged. Call it once per API.
//
// A route the host registered on its router directly (not through huma),
// such as a net/http pattern, is found only when Sety's route is added:
// Register returns the router's refusal as an error too, but routes added
// before it stay. Sety adds root-level routes (the health alias) first.
//
// The host's transformers (huma.Config.Transformers) see Sety's response
// bodies as Sety answers them, and a get-incident body's incident may be
// the copy Sety keeps to answer the next gets of that incident without a
// copy each (incident.Service.Peek). A transformer may read a body and
// return a value of its own; it must not change the body it was given, or
// later gets would answer with its change.
func (s *Sety) Register(api huma.API) error {
	if s.guest.authenticator != nil {
		if err := s.checkSchemes(api); err != nil {
			return err
		}
	}
	g := httpapi.NewGuest(api, s.guest.namePrefix, s.guest.operationPrefix())
	s.register(g)
	err := g.Commit(s.basePath + "/")
	var clash *httpapi.Clash
	if errors.As(err, &clash) {
		return fmt.Errorf("sety: %w; %s", err, s.avoid(clash))
	}
	return err
}

// avoid says which option avoids a clash.
func (s *Sety) avoid(c *httpapi.Clash) string {
	switch {
	case c.What == "route" && s.healthAlias != "" && strings.HasSuffix(c.Name, " "+s.healthAlias):
		return fmt.Sprintf("drop sety.WithHealthAlias(%q) (Sety's health check stays at %s/health)", s.healthAlias, s.basePath)
	case c.What == "route":
		return "mount Sety elsewhere with sety.WithBasePath"
	case c.What == "security scheme":
		return "rename the host's scheme, or let the host authenticate with sety.WithAuthenticator"
	}
	return `mount Sety with sety.WithNamePrefix("Sety") (or another prefix)`
}

// checkSchemes refuses security schemes the host's document does not have.
func (s *Sety) checkSchemes(api huma.API) error {
	have := api.OpenAPI().Components.SecuritySchemes
	for _, name := range s.guest.schemes {
		if _, ok := have[name]; !ok {
			return fmt.Errorf("sety: security scheme %q (sety.WithAuthenticator) is not in the host's OpenAPI components: add it before Register", name)
		}
	}
	return nil
}

// register adds Sety's operations and document to api.
func (s *Sety) register(api huma.API) {
	httpapi.InstallErrorFormat()
	var shared httpapi.Shared
	if s.guest.authenticator == nil {
		httpapi.AddSecurityScheme(api)
	} else {
		// The host's schemes (or none) on every authenticated operation,
		// in place of Sety's API key.
		shared.Security = []map[string][]string{}
		for _, name := range s.guest.schemes {
			shared.Security = append(shared.Security, map[string][]string{name: {}})
		}
		shared.Unauthorized = "Unauthenticated: the host's authentication refused the request."
	}
	root := httpapi.NewGroup(api, shared)
	registerHealth(root, s, s.basePath+"/health", "health")
	if s.healthAlias != "" && s.healthAlias != s.basePath+"/health" {
		registerHealth(root, s, s.healthAlias, "health-root")
	}
	// The shared modifier runs before the prefix's, which copies operations.
	g := httpapi.NewGroup(api, shared, s.basePath)
	if s.metrics != nil {
		g.UseMiddleware(s.metrics.Middleware)
	}
	console := string(auth.RespondersWrite)
	g.UseMiddleware(
		httpapi.OffUnless(api, s.log, console, s.console, "the operations console is not enabled on this server"),
		authapi.Middleware(api, s.Auth, s.log), httpapi.StrictBody(api, s.log))
	incidentapi.Register(g, s.Incidents, s.log)
	// The console's operations are always registered, so the document is one
	// whatever the server enables; unless enabled they answer 404.
	incidentapi.RegisterConsole(g, s.Incidents, s.log)
	httpapi.DocumentOptional(api, console, "Part of the operations console: answers 404 unless the server enables it "+
		"(`sety.WithOperationsConsole`; the example server's `-console` or `-demo`).")
	authapi.RegisterKeys(g, s.Auth, s.log)
	authapi.RegisterSessions(g, s.Auth, s.log, s.basePath)
	accessapi.Register(g, s.Access, s.log)
	threatapi.Register(g, s.Threat, s.log)
	webhookapi.Register(g, s.Webhooks, s.log)
	stream.Register(g, s.hub, s.stores.EventLog(), s.log)
	addTags(api)
	documentBundles(api)
	documentWebhooks(api)
	httpapi.FinishDocument(api, schemaExamples)
}
