package incidentapi

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
)

// The enums of the OpenAPI document are these Go constants: each type
// states its values once, wherever it is used. The incident package knows
// nothing of huma, so each enum has its schema here, on a type of its own
// that Enums aliases it to.
type (
	categoryEnum        incident.Category
	severityEnum        incident.Severity
	statusEnum          incident.Status
	outcomeEnum         incident.Outcome
	cancelReasonEnum    incident.CancelReason
	eventNameEnum       incident.EventName
	slaStateEnum        incident.SLAState
	responderStatusEnum incident.ResponderStatus
)

func (categoryEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(incident.Categories)
}
func (severityEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(incident.Severities)
}
func (statusEnum) Schema(huma.Registry) *huma.Schema  { return httpapi.EnumSchema(incident.Statuses) }
func (outcomeEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(incident.Outcomes) }
func (cancelReasonEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(incident.CancelReasons)
}
func (eventNameEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(incident.EventNames)
}
func (slaStateEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(incident.SLAStates) }
func (responderStatusEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(incident.ResponderStatuses)
}

// Enums makes reg document the incident enums by their values; Register
// calls it, before any operation.
func Enums(reg huma.Registry) {
	httpapi.Alias[incident.Category, categoryEnum](reg)
	httpapi.Alias[incident.Severity, severityEnum](reg)
	httpapi.Alias[incident.Status, statusEnum](reg)
	httpapi.Alias[incident.Outcome, outcomeEnum](reg)
	httpapi.Alias[incident.CancelReason, cancelReasonEnum](reg)
	httpapi.Alias[incident.EventName, eventNameEnum](reg)
	httpapi.Alias[incident.SLAState, slaStateEnum](reg)
	httpapi.Alias[incident.ResponderStatus, responderStatusEnum](reg)
}
