package threatapi

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/threat"
)

// The enums of the OpenAPI document are these Go constants: each type
// states its values once, wherever it is used. The threat package knows
// nothing of huma, so each enum has its schema here, on a type of its own
// that Enums aliases it to.
type (
	categoryEnum   threat.Category
	scoreLevelEnum threat.ScoreLevel
	zoneLevelEnum  threat.ZoneLevel
	riskLevelEnum  threat.RiskLevel
	confidenceEnum threat.Confidence
	directionEnum  threat.Direction
)

func (categoryEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(threat.Categories) }
func (scoreLevelEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(threat.ScoreLevels)
}
func (zoneLevelEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(threat.ZoneLevels) }
func (riskLevelEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(threat.RiskLevels) }
func (confidenceEnum) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema(threat.Confidences)
}
func (directionEnum) Schema(huma.Registry) *huma.Schema { return httpapi.EnumSchema(threat.Directions) }

// Enums makes reg document the threat enums by their values; Register
// calls it, before any operation.
func Enums(reg huma.Registry) {
	httpapi.Alias[threat.Category, categoryEnum](reg)
	httpapi.Alias[threat.ScoreLevel, scoreLevelEnum](reg)
	httpapi.Alias[threat.ZoneLevel, zoneLevelEnum](reg)
	httpapi.Alias[threat.RiskLevel, riskLevelEnum](reg)
	httpapi.Alias[threat.Confidence, confidenceEnum](reg)
	httpapi.Alias[threat.Direction, directionEnum](reg)
}
