package threat

import (
	"math"

	"github.com/sety-io/sety/geo"
)

// The 24-hour prediction (see the package doc, and backtest_test.go for how
// it is checked against what happens next).
const (
	nearRepeatM = 200.0 // near repeats: incidents this close to the place
	// nearRepeatLift is the extra incidents a day that one recent incident
	// near the place brings beyond the area's rate, fading linearly to
	// nothing over 14 days.
	nearRepeatLift = 0.03
	// priorM and priorDays shrink a place's rate towards its surroundings'
	// (within 5 km): as if the place had also seen priorDays days at the
	// surroundings' rate.
	priorM    = 5000.0
	priorDays = 10.0
)

// forecast is a 24-hour Poisson forecast and its parts.
type forecast struct {
	rate     float64 // incidents a day from the decayed recent history, shrunk towards the surroundings'
	repeats  float64 // near-repeat excess: recent nearby incidents beyond the rate's share
	expected float64
}

// predict forecasts the next 24 hours of the circle; callers hold e.mu.
func (e *Engine) predict(w *window, p geo.Point, r float64) RiskPrediction {
	f := e.forecast(w, p, r)
	prob := 1 - math.Exp(-f.expected)
	var n int
	{
		var t tally
		e.gather(w, newCircle(p, r), &t, false, 0)
		n = t.n
	}
	rp := RiskPrediction{HorizonHours: 24, ExpectedIncidents: round3(f.expected), ProbabilityAtLeastOne: round3(prob), Confidence: confidence(n),
		Factors: []Factor{
			{Name: "recent_rate", Impact: round3(f.rate), Detail: "incidents per day from the decayed recent history"},
			{Name: "near_repeat", Impact: round3(f.expected - f.rate), Detail: "extra incidents expected from incidents within 200 m in the last 14 days"},
		}}
	switch {
	case prob >= 0.75:
		rp.Level = RiskVeryHigh
	case prob >= 0.4:
		rp.Level = RiskHigh
	case prob >= 0.1:
		rp.Level = RiskModerate
	default:
		rp.Level = RiskLow
	}
	return rp
}

// forecast computes the expected incidents of the next 24 hours within r
// of p. A steady Poisson rate μ a day leaves a decayed count S = μ · E
// over a window of D days, E = (h / ln 2) · (1 − 2^(−D/h)) being the
// window's effective days. The rate is S / E shrunk towards the
// surroundings' rate μ₀ (the window's mean within 5 km, per area): μ = (S +
// 10 · μ₀) / (E + 10). Near repeats add nearRepeatLift a day for each
// incident within 200 m in the last 14 days (weighted 1 − age/14 days)
// beyond what μ itself puts there; callers hold e.mu.
func (e *Engine) forecast(w *window, p geo.Point, r float64) forecast {
	var decayed float64
	circle := newCircle(p, r)
	e.visit(w, circle, func(c *cell, i, j int, all bool) {
		for k := i; k < j; k++ {
			rc := &c.recs[k]
			if w.catMask[rc.cat] && (all || e.inside(circle, c, k)) {
				decayed += w.weightOf(c, k) / severityWeight[rc.sev]
			}
		}
	})
	h := e.halfSecs / 86400
	days := float64(w.hi-w.lo) / 86400
	var f forecast
	if days > 0 {
		var around tally
		big := math.Max(priorM, r)
		e.gather(w, newCircle(p, big), &around, false, 0)
		prior := float64(around.n) / days * (r / big) * (r / big)
		effective := h / math.Ln2 * (1 - math.Exp2(-days/h))
		f.rate = (decayed + priorDays*prior) / (effective + priorDays)
	}
	recent := *w
	recent.lo = clampU32(w.now - nearRepeatSecs)
	near := newCircle(p, math.Min(nearRepeatM, r))
	var lifted float64
	e.visit(&recent, near, func(c *cell, i, j int, all bool) {
		for k := i; k < j; k++ {
			rc := &c.recs[k]
			if w.catMask[rc.cat] && (all || e.inside(near, c, k)) {
				lifted += 1 - float64(w.now-int64(rc.t))/nearRepeatSecs
			}
		}
	})
	// What the rate alone puts within 200 m over 14 days, weighted alike
	// (a weight of 1/2 on average).
	share := math.Min(1, math.Pow(math.Min(nearRepeatM, r)/r, 2))
	f.repeats = math.Max(0, lifted-f.rate*share*14/2)
	f.expected = f.rate + nearRepeatLift*f.repeats
	return f
}
