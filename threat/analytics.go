package threat

import (
	"cmp"
	"math"
	"slices"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
)

// DangerAnalytics is everything known about the danger around a place.
type DangerAnalytics struct {
	Location      geo.Point          `json:"location" nullable:"false" example:"[3.3792,6.5244]" doc:"The centre asked for, [longitude, latitude]."`
	RadiusMeters  float64            `json:"radius_meters" example:"1000" doc:"The radius of the circle, in metres."`
	Window        Window             `json:"window" doc:"The incidents counted: created within it."`
	IncidentCount int                `json:"incident_count" example:"37" doc:"Incidents within the circle and the window."`
	ByCategory    map[string]int     `json:"by_category" nullable:"false" example:"{\"sos\":18,\"vehicle\":11,\"location_threat\":6,\"medical\":2}" doc:"Of those, per category."`
	BySeverity    map[string]int     `json:"by_severity" nullable:"false" example:"{\"low\":3,\"medium\":9,\"high\":20,\"critical\":5}" doc:"Of those, per severity."`
	Trend         Trend              `json:"trend" doc:"This window against the one before it."`
	TimeAnalysis  TimeAnalysis       `json:"time_analysis" doc:"When incidents happen here."`
	Patterns      IncidentPatterns   `json:"patterns" doc:"How incidents cluster here."`
	Comparison    LocationComparison `json:"comparison" doc:"This circle against its surroundings and the whole network."`
	Prediction    RiskPrediction     `json:"prediction" doc:"Risk over the next 24 hours."`
	DangerZones   []DangerZone       `json:"danger_zones" nullable:"false" doc:"Danger zones whose centre is within the circle, strongest first."`
	SafeZones     SafeZones          `json:"safe_zones" doc:"The safest well-covered places within the circle."`
	SafetyScore   *SafetyScore       `json:"safety_score" nullable:"false" doc:"The safety score of the centre, over the circle."`
	GeneratedAt   clock.Time         `json:"generated_at" doc:"When the answer was computed."`
}

// Trend compares the window with the window before it.
type Trend struct {
	Direction     Direction `json:"direction" doc:"rising or falling when the count changed by more than 15 % against the window before; stable otherwise."`
	ChangePct     float64   `json:"change_pct" example:"23.3" doc:"Change of the count against the window before, in percent (100 when there were none before)."`
	PreviousCount int       `json:"previous_count" example:"30" doc:"Incidents in the window of the same length before this one."`
}

// TimeAnalysis is when incidents happen (UTC).
type TimeAnalysis struct {
	ByHour      []int   `json:"by_hour" nullable:"false" doc:"Incidents per UTC hour of day, 0–23."`
	ByWeekday   []int   `json:"by_weekday" nullable:"false" doc:"Incidents per UTC weekday, Sunday first."`
	PeakHours   []int   `json:"peak_hours" nullable:"false" example:"[22,23,21]" doc:"The busiest UTC hours, busiest first."`
	SafestHours []int   `json:"safest_hours" nullable:"false" example:"[6,7,8]" doc:"The quietest UTC hours with data, quietest first."`
	NightShare  float64 `json:"night_share" example:"0.46" doc:"Share of incidents between 20:00 and 06:00 UTC, 0–1."`
}

// IncidentPatterns describes how incidents cluster.
type IncidentPatterns struct {
	TopCategories   []CategoryCount  `json:"top_categories" nullable:"false" doc:"Categories by count, most frequent first."`
	RepeatLocations []RepeatLocation `json:"repeat_locations" nullable:"false" doc:"Grid cells with 3 or more incidents, most incidents first; cells with as many run south to north, then west to east."`
	NearRepeatRate  float64          `json:"near_repeat_rate" example:"0.27" doc:"Share of incidents with another in the same or a neighbouring cell in the 14 days before (day resolution)."`
	MedianGapHours  *float64         `json:"median_gap_hours" example:"19.5" doc:"Median time between consecutive incidents, in hours (day resolution); null with fewer than two incidents."`
}

// RepeatLocation is a grid cell with repeated incidents.
type RepeatLocation struct {
	Center geo.Point `json:"center" nullable:"false" example:"[3.3801,6.5239]" doc:"Centre of the grid cell, [longitude, latitude]."`
	Count  int       `json:"count" example:"5" doc:"Incidents in the cell within the window."`
}

// LocationComparison sets a place against its surroundings.
type LocationComparison struct {
	LocalDensityPerKm2 float64 `json:"local_density_per_km2" example:"11.8" doc:"Weighted incident density within the circle, per km²."`
	AreaDensityPerKm2  float64 `json:"area_density_per_km2" example:"6.2" doc:"The same within 5 km, per km²."`
	RelativeRisk       float64 `json:"relative_risk" example:"1.9" doc:"local / area; 1 is average for the area."`
	Percentile         float64 `json:"percentile" example:"88" doc:"Network-wide percentile of the place's weighted density (100 worst)."`
}

// RiskPrediction forecasts the next 24 hours.
type RiskPrediction struct {
	HorizonHours          int        `json:"horizon_hours" example:"24" doc:"How far ahead the prediction looks, in hours."`
	ExpectedIncidents     float64    `json:"expected_incidents" example:"0.62" doc:"Expected incidents within the circle over the horizon."`
	ProbabilityAtLeastOne float64    `json:"probability_at_least_one" example:"0.46" doc:"Probability of at least one incident over the horizon, 0–1."`
	Level                 RiskLevel  `json:"level" doc:"The risk, graded from the probability."`
	Confidence            Confidence `json:"confidence" doc:"From how many incidents the prediction rests on: low under 5, medium under 30, high from 30."`
	Factors               []Factor   `json:"factors" nullable:"false" doc:"What raised or lowered the prediction."`
}

// SafeZones are the safest well-covered places nearby.
type SafeZones struct {
	Zones []SafeZone `json:"zones" nullable:"false" doc:"At most 3 safe places within the circle: first its cold spots (connected grid cells whose Getis-Ord Gi* z-score is significantly low, graded as danger zones are; strongest first), then the best-scoring spots of 250 m, safest first; each with incidents within 1 km of its centre, so its quiet is known (not sea or empty land). A cell is only significantly quiet among busy ones: on sparse data there are no cold spots."`
}

// SafeZone is one of them.
type SafeZone struct {
	Center       geo.Point `json:"center" nullable:"false" example:"[3.3702,6.5311]" doc:"Centre of the place, [longitude, latitude]."`
	RadiusMeters float64   `json:"radius_meters" example:"125" doc:"Its radius, in metres."`
	Score        int       `json:"score" example:"94" doc:"Its safety score, 0–100."`
}

// AnalyticsQuery asks for the analytics of a place.
type AnalyticsQuery struct {
	Query
	Location geo.Point
	RadiusM  float64 // default 1,000; 100–10,000
}

// Analytics composes every view of the danger around a place.
func (e *Engine) Analytics(q AnalyticsQuery) (*DangerAnalytics, error) {
	if err := checkPoint(q.Location); err != nil {
		return nil, err
	}
	r, err := checkRadius("radius_m", q.RadiusM, 1000)
	if err != nil {
		return nil, err
	}
	w, err := e.window(q.Query)
	if err != nil {
		return nil, err
	}
	score, err := e.Score(ScoreQuery{Query: q.Query, Location: q.Location, RadiusM: r})
	if err != nil {
		return nil, err
	}
	ref := e.reference()
	days := int(w.to.Sub(w.from).Hours()/24 + 0.5)
	prev := newWindow(w.from, days, e.cfg.HalfLife, q.Category)
	prev.hi-- // the previous window ends just before this one

	out := &DangerAnalytics{Location: q.Location, RadiusMeters: r, Window: w.wire(), ByCategory: map[string]int{}, BySeverity: map[string]int{},
		SafetyScore: score, DangerZones: []DangerZone{}, GeneratedAt: score.GeneratedAt}
	e.rlock(&w, &prev)
	defer e.mu.RUnlock()
	var hours [24]int
	var weekdays [7]int
	var cats [4]int
	var events []event
	circle := newCircle(q.Location, r)
	e.visit(&w, circle, func(c *cell, i, j int, all bool) {
		for k := i; k < j; k++ {
			rc := &c.recs[k]
			if !w.catMask[rc.cat] || !all && !e.inside(circle, c, k) {
				continue
			}
			out.IncidentCount++
			cats[rc.cat]++
			out.BySeverity[string(Severities[rc.sev])]++
			hours[hourOf(rc)]++
			weekdays[(int(dayOf(rc))+4)%7]++
			events = append(events, event{keyOf(c.x, c.y), int64(rc.t)})
		}
	})
	var before tally
	e.gather(&prev, circle, &before, false, 0)
	for i, c := range cats {
		if c > 0 {
			out.ByCategory[string(Categories[i])] = c
		}
	}
	out.Trend = trend(out.IncidentCount, before.n)
	out.TimeAnalysis = timeAnalysis(hours, weekdays)

	// Patterns.
	out.Patterns.TopCategories = topCategories(cats, out.IncidentCount, 4)
	cellCounts := map[cellKey]int{}
	for _, ev := range events {
		cellCounts[ev.key]++
	}
	for k, n := range cellCounts {
		if n >= 3 {
			out.Patterns.RepeatLocations = append(out.Patterns.RepeatLocations, RepeatLocation{Center: e.g.center(k), Count: n})
		}
	}
	// Most incidents first, then south to north and west to east: a total
	// order, so the same query answers in the same order whatever order
	// the map gives its cells in.
	slices.SortFunc(out.Patterns.RepeatLocations, func(a, b RepeatLocation) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmp.Or(cmpFloat(a.Center.Lat(), b.Center.Lat()), cmpFloat(a.Center.Lng(), b.Center.Lng()))
	})
	if out.Patterns.RepeatLocations == nil {
		out.Patterns.RepeatLocations = []RepeatLocation{}
	}
	out.Patterns.RepeatLocations = out.Patterns.RepeatLocations[:min(5, len(out.Patterns.RepeatLocations))]
	out.Patterns.NearRepeatRate, out.Patterns.MedianGapHours = repeats(events)

	// Comparison with the 5 km around.
	local := float64(out.IncidentCount) / areaKm2(r)
	_, areaN := e.density(&w, q.Location, 5000)
	area := float64(areaN) / areaKm2(5000)
	wd, _ := e.density(&w, q.Location, r)
	out.Comparison = LocationComparison{LocalDensityPerKm2: round3(local), AreaDensityPerKm2: round3(area), Percentile: round3(100 * ref.rank(wd))}
	if area > 0 {
		out.Comparison.RelativeRisk = round3(local / area)
	}
	out.Prediction = e.predict(&w, q.Location, r)

	// Zones whose center lies within the radius; cold spots, then the
	// best-scoring spots, as safe zones.
	var cold []DangerZone
	if st, err := e.newStudy(&w, boxAround(q.Location, r), true); err == nil {
		for _, z := range e.merge(&w, st, st.spots(true), true, nil) {
			if geo.Distance(z.Center, q.Location) <= r {
				out.DangerZones = append(out.DangerZones, z)
			}
		}
		cold = e.merge(&w, st, st.spots(false), false, nil)
		st.release()
	}
	out.SafeZones = e.safeZones(&w, ref, q.Location, r, cold)
	return out, nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// event is one incident of an analytics circle: its cell and time.
type event struct {
	key cellKey
	t   int64
}

func trend(now, before int) Trend {
	t := Trend{PreviousCount: before, Direction: Stable}
	switch {
	case before == 0 && now > 0:
		t.ChangePct, t.Direction = 100, Rising
	case before > 0:
		t.ChangePct = round3(100 * float64(now-before) / float64(before))
		if t.ChangePct > 15 {
			t.Direction = Rising
		} else if t.ChangePct < -15 {
			t.Direction = Falling
		}
	}
	return t
}

func timeAnalysis(hours [24]int, weekdays [7]int) TimeAnalysis {
	ta := TimeAnalysis{ByHour: hours[:], ByWeekday: weekdays[:], PeakHours: peakHours(hours, 3), SafestHours: []int{}}
	total, night := 0, 0
	for h, n := range hours {
		total += n
		if h >= 20 || h < 6 {
			night += n
		}
	}
	if total > 0 {
		ta.NightShare = round3(float64(night) / float64(total))
		order := make([]int, 24)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return hours[a] - hours[b] })
		ta.SafestHours = order[:3]
	}
	return ta
}

// nearRepeatSecs is how far back an earlier incident makes a near repeat.
const nearRepeatSecs = 14 * 86400

// repeats computes the near-repeat rate (incidents with an earlier one in
// the same or a neighbouring cell at most 14 days before) and the median
// gap between consecutive incidents, in hours.
func repeats(evs []event) (float64, *float64) {
	if len(evs) == 0 {
		return 0, nil
	}
	byCell := map[cellKey][]int64{}
	times := make([]int64, 0, len(evs))
	for _, ev := range evs {
		byCell[ev.key] = append(byCell[ev.key], ev.t)
		times = append(times, ev.t)
	}
	for _, ts := range byCell {
		slices.Sort(ts)
	}
	repeat := 0
	for _, ev := range evs {
		x, y := ev.key.xy()
		found := false
		for dy := int32(-1); dy <= 1 && !found; dy++ {
			for dx := int32(-1); dx <= 1 && !found; dx++ {
				ts := byCell[keyOf(x+dx, y+dy)]
				// Earlier ones within 14 days; in its own cell, the
				// incident itself is one of those at its instant.
				lo, _ := slices.BinarySearch(ts, ev.t-nearRepeatSecs)
				hi, _ := slices.BinarySearch(ts, ev.t+1)
				n := hi - lo
				if dx == 0 && dy == 0 {
					n--
				}
				found = n > 0
			}
		}
		if found {
			repeat++
		}
	}
	slices.Sort(times)
	var median *float64
	if len(times) > 1 {
		gaps := make([]float64, len(times)-1)
		for i := range gaps {
			gaps[i] = float64(times[i+1]-times[i]) / 3600
		}
		slices.Sort(gaps)
		m := gaps[(len(gaps)-1)/2]
		if len(gaps)%2 == 0 {
			m = (m + gaps[len(gaps)/2]) / 2
		}
		m = round3(m)
		median = &m
	}
	return round3(float64(repeat) / float64(len(evs))), median
}

// safeZones returns up to three safe places within the radius, each in an
// area with history (some incident within 1 km of its centre, so the quiet
// is known, not empty map): first the cold spots whose centre is within it
// (strongest first), then the spots whose own 250 m neighbourhood scores
// best.
func (e *Engine) safeZones(w *window, ref *reference, p geo.Point, r float64, cold []DangerZone) SafeZones {
	out := SafeZones{Zones: []SafeZone{}}
	for _, z := range cold {
		if len(out.Zones) == 3 || geo.Distance(z.Center, p) > r {
			continue
		}
		if _, known := e.density(w, z.Center, 1000); known == 0 {
			continue // quiet because nobody is there (sea, empty land): not known to be safe
		}
		d, _ := e.density(w, z.Center, math.Max(z.RadiusMeters, e.cfg.CellM))
		out.Zones = append(out.Zones, SafeZone{Center: geo.Point{round6(z.Center[0]), round6(z.Center[1])}, RadiusMeters: z.RadiusMeters, Score: ref.scoreOf(d)})
	}
	type cand struct {
		c     geo.Point
		score int
		d     float64
	}
	var cands []cand
	step := e.cfg.CellM * 2
	for dy := -r; dy <= r; dy += step {
		for dx := -r; dx <= r; dx += step {
			if dx*dx+dy*dy > r*r {
				continue
			}
			c := geo.Point{p.Lng() + dx/(metersPerDegree*math.Max(math.Cos(p.Lat()*math.Pi/180), 0.01)), p.Lat() + dy/metersPerDegree}
			if _, known := e.density(w, c, 1000); known == 0 {
				continue
			}
			d, _ := e.density(w, c, e.cfg.CellM)
			cands = append(cands, cand{c, ref.scoreOf(d), geo.Distance(p, c)})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.score != b.score {
			return b.score - a.score
		}
		return cmpFloat(a.d, b.d)
	})
	listed := len(out.Zones)
	for _, c := range cands {
		if len(out.Zones) == 3 {
			break
		}
		within := false // a spot inside a listed cold spot adds nothing
		for _, z := range out.Zones[:listed] {
			within = within || geo.Distance(z.Center, c.c) <= z.RadiusMeters
		}
		if !within {
			out.Zones = append(out.Zones, SafeZone{Center: geo.Point{round6(c.c[0]), round6(c.c[1])}, RadiusMeters: e.cfg.CellM, Score: c.score})
		}
	}
	return out
}
