package threat

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/setyerr"
)

// SafetyScore is the 0–100 safety of a place (100 safest).
type SafetyScore struct {
	Score             int             `json:"score" minimum:"0" maximum:"100" example:"68" doc:"100 is safest."`
	Level             ScoreLevel      `json:"level" doc:"The band of the score: safe 80–100, moderate 60–79, caution 40–59, dangerous 20–39, critical 0–19."`
	Location          geo.Point       `json:"location" nullable:"false" example:"[3.3792,6.5244]" doc:"The place asked for, [longitude, latitude]."`
	RadiusMeters      float64         `json:"radius_meters" example:"500" doc:"The radius the score considers, in metres."`
	IncidentCount     int             `json:"incident_count" example:"12" doc:"Incidents within the radius and the window."`
	RecentIncidents7d int             `json:"recent_incidents_7d" example:"2" doc:"Of those, incidents in the last 7 days."`
	TopCategories     []CategoryCount `json:"top_categories" nullable:"false" doc:"Categories of those incidents by count, most frequent first."`
	Factors           []Factor        `json:"factors" nullable:"false" doc:"What moved the score, each with its effect in points."`
	Confidence        Confidence      `json:"confidence" doc:"From how many incidents the score rests on."`
	Window            Window          `json:"window" doc:"The incidents counted: created within it."`
	GeneratedAt       clock.Time      `json:"generated_at" doc:"When the answer was computed."`
}

// CategoryCount is how many incidents of a category, and their share.
type CategoryCount struct {
	Category string  `json:"category" example:"sos" doc:"The incident category."`
	Count    int     `json:"count" example:"7" doc:"Incidents of the category."`
	Share    float64 `json:"share" example:"0.58" doc:"Their share of all the incidents counted, 0–1."`
}

// Factor explains one input of an answer.
type Factor struct {
	Name   string  `json:"name" example:"incident_density" doc:"What the factor is: incident_density, time_of_day, recent_activity, ..."`
	Impact float64 `json:"impact" example:"-32" doc:"Signed effect on the score, in points."`
	Detail string  `json:"detail" example:"12 weighted incidents within 500 m, more than 84 % of places" doc:"The factor in words."`
}

// ScoreQuery asks for a safety score.
type ScoreQuery struct {
	Query
	Location geo.Point
	RadiusM  float64 // default 500; 100–10,000
}

// checkPoint names lat or lng, whichever is out of range.
func checkPoint(p geo.Point) error {
	if err := geo.CheckLat(p.Lat()); err != nil {
		return setyerr.Invalidf("lat", "%v", err)
	}
	if err := geo.CheckLng(p.Lng()); err != nil {
		return setyerr.Invalidf("lng", "%v", err)
	}
	return nil
}

func checkRadius(field string, r, def float64) (float64, error) {
	if r == 0 {
		return def, nil
	}
	if math.IsNaN(r) || r < 100 || r > 10000 {
		return 0, setyerr.Invalidf(field, "must be between 100 and 10000")
	}
	return r, nil
}

// Score rates a place: the decayed, severity-weighted incident density
// within the radius, ranked against the network-wide distribution. With
// At, the area's hour-of-day profile scales the density for that hour.
func (e *Engine) Score(q ScoreQuery) (*SafetyScore, error) {
	if err := checkPoint(q.Location); err != nil {
		return nil, err
	}
	r, err := checkRadius("radius_m", q.RadiusM, 500)
	if err != nil {
		return nil, err
	}
	w, err := e.window(q.Query)
	if err != nil {
		return nil, err
	}
	ref := e.reference()
	e.rlock(&w)
	var t tally
	e.gather(&w, newCircle(q.Location, r), &t, true, w.now-7*86400)
	e.mu.RUnlock()
	d, n, hours, cats, recent := t.w/areaKm2(r), t.n, t.hours, t.cats, t.recent

	out := &SafetyScore{Location: q.Location, RadiusMeters: r, IncidentCount: n, RecentIncidents7d: recent,
		TopCategories: topCategories(cats, n, 3), Window: w.wire(), GeneratedAt: clock.At(e.now().UTC().Truncate(time.Millisecond))}
	base := ref.scoreOf(d)
	out.Score = base
	out.Factors = append(out.Factors, Factor{Name: "incident_density", Impact: float64(base - 100),
		Detail: fmt.Sprintf("%d incidents within %.0f m over %d days, weighted by severity and age (half-life %.0f days)", n, r, int(w.to.Sub(w.from).Hours()/24+0.5), e.cfg.HalfLife.Hours()/24)})
	if !q.At.IsZero() && n > 0 {
		f := hourFactor(hours, n, q.At.UTC().Hour())
		adjusted := ref.scoreOf(d * f)
		out.Factors = append(out.Factors, Factor{Name: "time_of_day", Impact: float64(adjusted - base),
			Detail: fmt.Sprintf("%02d:00 UTC carries %.1f× the area's average hourly share of incidents", q.At.UTC().Hour(), f)})
		out.Score = adjusted
	}
	if recent > 0 {
		out.Factors = append(out.Factors, Factor{Name: "recent_activity", Impact: 0, Detail: fmt.Sprintf("%d incidents in the last 7 days", recent)})
	}
	out.Level = Level(out.Score)
	out.Confidence = confidence(n)
	return out, nil
}

// hourFactor is how much hour h carries against an even spread, smoothed
// towards 1 so a handful of incidents cannot swing it, and kept in [0.5, 3].
func hourFactor(hours [24]int, n, h int) float64 {
	const prior = 2.0 // pseudo-incidents per hour
	f := (float64(hours[h]) + prior) / (float64(n)/24 + prior)
	return math.Min(3, math.Max(0.5, f))
}

func topCategories(cats [4]int, n, limit int) []CategoryCount {
	out := []CategoryCount{}
	for i, c := range cats {
		if c > 0 {
			out = append(out, CategoryCount{Category: string(Categories[i]), Count: c, Share: math.Round(float64(c)/float64(max(n, 1))*1000) / 1000})
		}
	}
	slices.SortStableFunc(out, func(a, b CategoryCount) int { return b.Count - a.Count })
	return out[:min(limit, len(out))]
}
