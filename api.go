package sety

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/internal/httpapi"
)

// NewAPIConfig returns huma's configuration for an API that is Sety: the
// Sety title and description, the server that serves the document, the API
// key as the default security of every operation (the health check opts
// out), none of the `$schema` field and Link header huma's default adds to
// response bodies, which the Sety contract does not have, and no docs page:
// huma's loads its renderer from a CDN, so mount apidocs.New at /docs for
// one the server serves itself. A service that mounts Sety inside its own
// API keeps its own configuration; every Sety operation states its own
// security either way.
func NewAPIConfig() huma.Config {
	config := huma.DefaultConfig("Sety API", "1.0.0")
	config.CreateHooks = nil
	config.DocsPath = ""
	config.Info.Description = "Emergency incidents with dispatch and webhooks, visitor access, and threat intelligence " +
		"for safety platforms.\n\n" +
		"Authenticate with `Authorization: Bearer sety_live_...` (production) or `sety_test_...` (sandbox: incidents are drills, " +
		"never sent to real responders). Live and test data are fully separate.\n\n" +
		"Every error is `{\"code\": <status>, \"message\": \"...\"}`, with `errors: [{field, message}]` on 400. " +
		"Timestamps are RFC 3339 in UTC with milliseconds; unset ones are `null`. Coordinates are `[longitude, latitude]`. " +
		"Lists take `page` and `limit` and answer `{data, pagination}`.\n\n" +
		"Every authenticated response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; " +
		"past the plan's limit the answer is 429 with `Retry-After`. Events reach your webhook endpoints as described under `webhooks`."
	config.Info.Contact = &huma.Contact{Name: "Sety API documentation", URL: "https://docs.sety.io"}
	config.Servers = []*huma.Server{{URL: "/", Description: "The server that serves this document."}}
	config.Security = []map[string][]string{{httpapi.SecurityScheme: {}}}
	return config
}
