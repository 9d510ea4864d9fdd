package sety

import "github.com/danielgtaylor/huma/v2"

// NewAPIConfig returns huma's configuration for an API that is Sety: the
// Sety title and description, and none of the `$schema` field and Link
// header huma's default adds to response bodies, which the Sety contract
// does not have. A service that mounts Sety inside its own API keeps its
// own configuration.
func NewAPIConfig() huma.Config {
	config := huma.DefaultConfig("Sety API", "1.0.0")
	config.CreateHooks = nil
	config.Info.Description = "Emergency incidents with dispatch and webhooks, visitor access, and threat intelligence " +
		"for safety platforms. Authenticate with `Authorization: Bearer sety_live_...` (production) or `sety_test_...` (sandbox). " +
		"Every error is `{\"code\": <status>, \"message\": \"...\"}`."
	return config
}
