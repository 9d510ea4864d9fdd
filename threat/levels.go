package threat

// ScoreLevel names a band of the 0–100 safety score, for a place or a
// route segment.
type ScoreLevel string

// The score bands: safe 80–100, moderate 60–79, caution 40–59, dangerous
// 20–39, critical 0–19.
const (
	ScoreSafe      ScoreLevel = "safe"
	ScoreModerate  ScoreLevel = "moderate"
	ScoreCaution   ScoreLevel = "caution"
	ScoreDangerous ScoreLevel = "dangerous"
	ScoreCritical  ScoreLevel = "critical"
)

// ScoreLevels lists the bands, safest first.
var ScoreLevels = []ScoreLevel{ScoreSafe, ScoreModerate, ScoreCaution, ScoreDangerous, ScoreCritical}

// Level returns the band of a score.
func Level(score int) ScoreLevel {
	switch {
	case score >= 80:
		return ScoreSafe
	case score >= 60:
		return ScoreModerate
	case score >= 40:
		return ScoreCaution
	case score >= 20:
		return ScoreDangerous
	}
	return ScoreCritical
}

// ZoneLevel is how significant a danger zone is, by its highest Gi* z-score.
type ZoneLevel string

// The zone levels: z ≥ 1.65 elevated, 1.96 high, 2.58 critical.
const (
	ZoneElevated ZoneLevel = "elevated"
	ZoneHigh     ZoneLevel = "high"
	ZoneCritical ZoneLevel = "critical"
)

// ZoneLevels lists the zone levels, weakest first.
var ZoneLevels = []ZoneLevel{ZoneElevated, ZoneHigh, ZoneCritical}

// RiskLevel grades a 24-hour risk prediction.
type RiskLevel string

// The risk levels, lowest first.
const (
	RiskLow      RiskLevel = "low"
	RiskModerate RiskLevel = "moderate"
	RiskHigh     RiskLevel = "high"
	RiskVeryHigh RiskLevel = "very_high"
)

// RiskLevels lists the risk levels, lowest first.
var RiskLevels = []RiskLevel{RiskLow, RiskModerate, RiskHigh, RiskVeryHigh}

// Confidence says how many incidents an answer rests on.
type Confidence string

// The confidence grades: low under 5 incidents, medium under 30, else high.
const (
	ConfidenceLow    Confidence = "low"
	ConfidenceMedium Confidence = "medium"
	ConfidenceHigh   Confidence = "high"
)

// Confidences lists the confidence grades, lowest first.
var Confidences = []Confidence{ConfidenceLow, ConfidenceMedium, ConfidenceHigh}

func confidence(n int) Confidence {
	switch {
	case n < 5:
		return ConfidenceLow
	case n < 30:
		return ConfidenceMedium
	}
	return ConfidenceHigh
}

// Direction is where a place's incident count is heading.
type Direction string

// The trend directions: rising or falling past ±15 %.
const (
	Rising  Direction = "rising"
	Stable  Direction = "stable"
	Falling Direction = "falling"
)

// Directions lists the trend directions.
var Directions = []Direction{Rising, Stable, Falling}
