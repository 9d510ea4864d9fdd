package threat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// The prediction backtest. A synthetic history with known rates: 144
// places (circles of 500 m, 1.2 km apart) around Lagos, each with its own
// background rate (log-normal, median 0.05 a day) drifting over the year
// (×e^(β·t/1 year), β ~ N(0, 0.7)); 12 planted spots that switch on for 60
// days at a random time in the last 150 days (0.3–1 a day within 100 m);
// and near repeats: every incident brings Poisson(0.25) more within 60 m
// (normal) after an exponential delay of mean 4 days, which bring their
// own. At 30 cut-offs, every other day after a year of history, the engine
// predicts each place's next 24 hours (Engine.forecast, the figure
// danger-analytics returns) and the baseline predicts the place's mean
// daily count over the year before; both are compared with the counts that
// follow, by Poisson deviance and by calibration (mean predicted against
// mean observed, by decile of the prediction).

type backtest struct {
	places  []geo.Point
	reports []Report
	start   time.Time // the history begins
	cuts    []time.Time
}

func newBacktest(seed uint64) *backtest {
	rng := rand.New(rand.NewPCG(seed, 11))
	bt := &backtest{start: exactNow.Add(-425 * 24 * time.Hour)}
	for i := range 12 {
		for j := range 12 {
			bt.places = append(bt.places, lagosAt(float64(i-6)*1.2, float64(j-6)*1.2))
		}
	}
	const days = 425
	offset := func(c geo.Point, sigma float64) geo.Point {
		return geo.Point{c.Lng() + rng.NormFloat64()*sigma/(metersPerDegree*math.Cos(c.Lat()*math.Pi/180)), c.Lat() + rng.NormFloat64()*sigma/metersPerDegree}
	}
	inDisc := func(c geo.Point, r float64) geo.Point {
		d, th := r*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
		return geo.Point{c.Lng() + d*math.Cos(th)/(metersPerDegree*math.Cos(c.Lat()*math.Pi/180)), c.Lat() + d*math.Sin(th)/metersPerDegree}
	}
	var queue []Report
	emit := func(p geo.Point, at time.Time) {
		queue = append(queue, Report{At: at.Truncate(time.Second), Location: p, Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]})
	}
	for _, pl := range bt.places {
		base := 0.05 * math.Exp(rng.NormFloat64())
		beta := 0.7 * rng.NormFloat64()
		for d := range days {
			rate := base * math.Exp(beta*(float64(d)-days/2)/365)
			for range poisson(rng, rate) {
				emit(inDisc(pl, 500), bt.start.Add(time.Duration((float64(d)+rng.Float64())*86400)*time.Second))
			}
		}
	}
	for range 12 {
		pl := bt.places[rng.IntN(len(bt.places))]
		centre := inDisc(pl, 350)
		on := days - 150 + rng.IntN(150)
		rate := 0.3 + 0.7*rng.Float64()
		for d := on; d < min(days, on+60); d++ {
			for range poisson(rng, rate) {
				emit(offset(centre, 100), bt.start.Add(time.Duration((float64(d)+rng.Float64())*86400)*time.Second))
			}
		}
	}
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		bt.reports = append(bt.reports, r)
		for range poisson(rng, 0.25) {
			at := r.At.Add(time.Duration(rng.ExpFloat64() * 4 * 86400 * float64(time.Second)))
			if at.Before(bt.start.Add(days * 24 * time.Hour)) {
				emit(offset(r.Location, 60), at)
			}
		}
	}
	for k := range 30 {
		bt.cuts = append(bt.cuts, bt.start.Add(time.Duration(365+2*k)*24*time.Hour))
	}
	return bt
}

func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// outcome is one place-day: the two predictions and what happened.
type outcome struct{ engine, baseline, observed float64 }

func (bt *backtest) run() []outcome {
	var now time.Time
	e := NewEngine(Config{Now: func() time.Time { return now }})
	for _, r := range bt.reports {
		e.Add(r)
	}
	var out []outcome
	for _, cut := range bt.cuts {
		now = cut
		w, err := e.window(Query{})
		if err != nil {
			panic(err)
		}
		year := newWindow(cut, 365, e.cfg.HalfLife, "")
		next := newWindow(cut.Add(24*time.Hour), 1, e.cfg.HalfLife, "")
		next.lo++ // after the cut-off
		e.rlock(&w, &year, &next)
		for _, p := range bt.places {
			f := e.forecast(&w, p, 500)
			var hist, seen tally
			e.gather(&year, newCircle(p, 500), &hist, false, 0)
			e.gather(&next, newCircle(p, 500), &seen, false, 0)
			out = append(out, outcome{engine: f.expected, baseline: float64(hist.n) / 365, observed: float64(seen.n)})
		}
		e.mu.RUnlock()
	}
	return out
}

// deviance is the Poisson deviance of predictions against counts, with
// predictions floored at 0.001 a day (a place with no history).
func deviance(os []outcome, pred func(outcome) float64) float64 {
	d := 0.0
	for _, o := range os {
		mu := math.Max(pred(o), 0.001)
		if o.observed > 0 {
			d += o.observed * math.Log(o.observed/mu)
		}
		d -= o.observed - mu
	}
	return 2 * d
}

// calibration is the mean prediction and the mean count by decile of the
// prediction.
func calibration(os []outcome, pred func(outcome) float64) string {
	sorted := slices.Clone(os)
	slices.SortFunc(sorted, func(a, b outcome) int { return cmpFloat(pred(a), pred(b)) })
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %9s %9s %9s\n", "decile", "predicted", "observed", "obs/pred")
	for d := range 10 {
		part := sorted[d*len(sorted)/10 : (d+1)*len(sorted)/10]
		var p, o float64
		for _, x := range part {
			p += pred(x)
			o += x.observed
		}
		p, o = p/float64(len(part)), o/float64(len(part))
		fmt.Fprintf(&b, "%-7d %9.4f %9.4f %9.2f\n", d+1, p, o, o/p)
	}
	return b.String()
}

// The constants of the prediction (nearRepeatLift, priorDays) were chosen on
// the world of seed 1; the test runs on seed 2.
func TestPredictionBeatsHistoricalMean(t *testing.T) {
	bt := newBacktest(2)
	os := bt.run()
	engine := func(o outcome) float64 { return o.engine }
	baseline := func(o outcome) float64 { return o.baseline }
	de, db := deviance(os, engine), deviance(os, baseline)
	var sp, sb, so float64
	for _, o := range os {
		sp, sb, so = sp+o.engine, sb+o.baseline, so+o.observed
	}
	t.Logf("%d incidents, %d place-days; observed %.0f, predicted %.1f (engine) and %.1f (historical mean)", len(bt.reports), len(os), so, sp, sb)
	t.Logf("Poisson deviance: engine %.1f, historical mean %.1f (%.1f %% lower)", de, db, 100*(1-de/db))
	t.Logf("engine calibration:\n%s", calibration(os, engine))
	t.Logf("historical mean calibration:\n%s", calibration(os, baseline))
	if de >= db {
		t.Fatalf("the prediction's Poisson deviance %.1f does not beat the historical mean's %.1f", de, db)
	}
	if r := sp / so; r < 0.8 || r > 1.25 {
		t.Fatalf("the prediction expects %.1f incidents where %.0f happened", sp, so)
	}
}
