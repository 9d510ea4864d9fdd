package authapi

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/httpapi"
)

// The enums of the OpenAPI document are these Go constants: each type
// states its values once, wherever it is used. The auth package knows
// nothing of huma, so each enum has its schema here, on a type of its own
// that Enums aliases it to.
type (
	planEnum        auth.Plan
	orgStatusEnum   auth.OrgStatus
	environmentEnum auth.Environment
	scopeEnum       auth.Scope
)

func (planEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema([]auth.Plan{auth.Starter, auth.Growth, auth.Enterprise})
}

func (orgStatusEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema([]auth.OrgStatus{auth.Active, auth.Suspended})
}

func (environmentEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema([]auth.Environment{auth.Live, auth.Test})
}

func (scopeEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(auth.Scopes) }

// Enums makes reg document the auth enums by their values. The HTTP
// packages of the domains whose types hold an environment or a scope call
// it before they register any operation.
func Enums(reg huma.Registry) {
	httpapi.Alias[auth.Plan, planEnum](reg)
	httpapi.Alias[auth.OrgStatus, orgStatusEnum](reg)
	httpapi.Alias[auth.Environment, environmentEnum](reg)
	httpapi.Alias[auth.Scope, scopeEnum](reg)
}
