package threat

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/sety-io/sety/geo"
)

// Synthetic makes reports with a known answer: hot spots planted in
// uniform background noise. Tests check the engine finds what was planted;
// the example server's demo and the benchmarks load it.
type Synthetic struct {
	Center     geo.Point // middle of the background disc
	RadiusM    float64   // background disc radius
	Background int       // uniform incidents over the disc, at uniform hours
	Spots      []Spot
	Start, End time.Time // incidents fall uniformly in [Start, End)
	Seed       uint64
}

// Spot is a planted hot spot: Count incidents normally spread (σ = SigmaM)
// around Center, at PeakHours when given (else any hour).
type Spot struct {
	Center    geo.Point
	SigmaM    float64
	Count     int
	PeakHours []int
	Category  Category // "" for mixed
}

// Generate calls fn with every report, deterministically for a Seed.
func (s Synthetic) Generate(fn func(Report)) {
	rng := rand.New(rand.NewPCG(s.Seed, 0x5e7a))
	span := s.End.Sub(s.Start)
	at := func(hours []int) time.Time {
		t := s.Start.Add(time.Duration(rng.Int64N(int64(span))))
		if len(hours) > 0 {
			day := t.Truncate(24 * time.Hour)
			t = day.Add(time.Duration(hours[rng.IntN(len(hours))])*time.Hour + time.Duration(rng.Int64N(int64(time.Hour))))
		}
		return t
	}
	offset := func(c geo.Point, dx, dy float64) geo.Point {
		return geo.Point{c.Lng() + dx/(metersPerDegree*math.Cos(c.Lat()*math.Pi/180)), c.Lat() + dy/metersPerDegree}
	}
	pick := func(cat Category) (Category, Severity) {
		if cat == "" {
			cat = Categories[rng.IntN(len(Categories))]
		}
		return cat, Severities[rng.IntN(len(Severities))]
	}
	for range s.Background {
		r := s.RadiusM * math.Sqrt(rng.Float64())
		th := 2 * math.Pi * rng.Float64()
		cat, sev := pick("")
		fn(Report{At: at(nil), Location: offset(s.Center, r*math.Cos(th), r*math.Sin(th)), Category: cat, Severity: sev})
	}
	for _, sp := range s.Spots {
		for range sp.Count {
			cat, sev := pick(sp.Category)
			fn(Report{At: at(sp.PeakHours), Location: offset(sp.Center, rng.NormFloat64()*sp.SigmaM, rng.NormFloat64()*sp.SigmaM), Category: cat, Severity: sev})
		}
	}
}

// Lagos is the centre of the public docs' examples (lat 6.5244, lng 3.3792).
var Lagos = geo.NewPoint(6.5244, 3.3792)

// LagosYear is a year of synthetic incidents within 30 km of central
// Lagos with four planted hot spots, ending at end: what the example
// server's -demo loads, and the benchmarks' data at a larger size.
func LagosYear(end time.Time, background int, seed uint64) Synthetic {
	at := func(dLatKm, dLngKm float64) geo.Point {
		return geo.NewPoint(Lagos.Lat()+dLatKm/111.195, Lagos.Lng()+dLngKm/110.4)
	}
	scale := max(1, background/20)
	return Synthetic{
		Center: Lagos, RadiusM: 30000, Background: background, Start: end.Add(-365 * 24 * time.Hour), End: end, Seed: seed,
		Spots: []Spot{
			{Center: at(-10.6, 4.7), SigmaM: 250, Count: 3 * scale, PeakHours: []int{20, 21, 22, 23}, Category: Vehicle}, // Victoria Island
			{Center: at(8.6, -3.0), SigmaM: 300, Count: 2 * scale, PeakHours: []int{18, 19, 20}},                         // Ikeja
			{Center: at(-2.0, -6.5), SigmaM: 200, Count: 2 * scale, PeakHours: []int{1, 2, 3}, Category: LocationThreat}, // Festac
			{Center: at(3.0, 9.0), SigmaM: 350, Count: scale, PeakHours: []int{7, 8, 17, 18}, Category: SOS},             // Lekki-Ikoyi link
		},
	}
}
