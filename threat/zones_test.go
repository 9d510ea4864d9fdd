package threat

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// gradedWorld is a busy background around centre with twelve spots of
// growing size: some barely significant, some overwhelmingly.
func gradedWorld(centre geo.Point, seed uint64) Synthetic {
	var spots []Spot
	for i := range 12 {
		dy, dx := float64(i/4)*4000-4000, float64(i%4)*4000-6000
		spots = append(spots, Spot{Center: offsetM(centre, dx, dy), SigmaM: 120, Count: 3 + 2*i})
	}
	return Synthetic{Center: centre, RadiusM: 12000, Background: 20000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: seed, Spots: spots}
}

// offsetM moves p by metres east and north.
func offsetM(p geo.Point, east, north float64) geo.Point {
	return geo.Point{p.Lng() + east/(metersPerDegree*math.Cos(p.Lat()*degToRad)), p.Lat() + north/metersPerDegree}
}

// boxM is the box of half-size m metres around p.
func boxM(p geo.Point, m float64) Box {
	a, b := offsetM(p, -m, -m), offsetM(p, m, m)
	return Box{a.Lng(), a.Lat(), b.Lng(), b.Lat()}
}

func load(t testing.TB, cellM float64, gen func(func(Report))) (*Engine, *brute) {
	t.Helper()
	var reports []Report
	gen(func(r Report) { reports = append(reports, r) })
	e := NewEngine(Config{CellM: cellM, Now: func() time.Time { return exactNow }})
	for _, r := range reports {
		e.Add(r)
	}
	return e, &brute{reports: reports, now: exactNow, halfLife: e.cfg.HalfLife}
}

// oracle finds the zones of a box from the reports themselves, strongest
// first, with the lattice's weights and counts.
func oracle(t *testing.T, e *Engine, b *brute, box Box) ([]oracleZone, []float64, []int) {
	t.Helper()
	s, _ := studyOf(t, e, box, 90)
	x, n := bruteLattice(e.g, s, b, 90)
	l := &lattice{nx: s.nx, ny: s.ny, ring: s.ring, ky: s.ky, kx: s.kx, x: x}
	l.prepare()
	zones := oracleZones(s, l)
	slices.SortStableFunc(zones, func(a, b oracleZone) int { return cmpFloat(b.z, a.z) })
	return zones, x, n
}

// Zone levels are ArcGIS's bins, each after its own Benjamini–Hochberg
// step: every level occurs when the data hold clusters of every strength,
// each zone's level is the strongest at which the oracle finds its cells
// significant, and min_level keeps the zones of that level or stronger.
func TestZoneLevelsAreEachReachable(t *testing.T) {
	e, b := load(t, 0, gradedWorld(Lagos, 3).Generate)
	box := boxM(Lagos, 9000)
	want, _, _ := oracle(t, e, b, box)
	zones, _, err := e.Zones(Query{}, box, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != len(want) {
		t.Fatalf("%d zones, the oracle finds %d", len(zones), len(want))
	}
	levels := map[ZoneLevel]int{}
	for i, z := range zones {
		if z.Level != ZoneLevels[want[i].grade-1] || z.ZScore != math.Round(want[i].z*100)/100 {
			t.Fatalf("zone %d: %s at z %v; the oracle's: grade %d at z %v", i, z.Level, z.ZScore, want[i].grade, want[i].z)
		}
		levels[z.Level]++
	}
	for _, lv := range ZoneLevels {
		if levels[lv] == 0 {
			t.Fatalf("no %s zone among %v", lv, levels)
		}
		got, _, _ := e.Zones(Query{}, box, lv, 0)
		n := 0
		for _, above := range ZoneLevels[slices.Index(ZoneLevels, lv):] {
			n += levels[above]
		}
		if len(got) != n {
			t.Fatalf("min_level %s keeps %d zones, want %d (%v)", lv, len(got), n, levels)
		}
	}
	t.Logf("zones by level: %v", levels)
}

// A zone's counts, weight and categories cover the incidents of its cells
// and of their Gi* neighbourhoods, as the oracle finds them: so a zone is
// never empty, even one whose own cells hold no incident.
func TestZoneFiguresCoverTheirEvidence(t *testing.T) {
	e, b := load(t, 0, gradedWorld(Lagos, 4).Generate)
	box := boxM(Lagos, 9000)
	want, x, n := oracle(t, e, b, box)
	zones, _, _ := e.Zones(Query{}, box, "", 0)
	for i, z := range zones {
		count, weight := 0, 0.0
		for c := range want[i].evidence {
			count += n[c]
			weight += x[c]
		}
		cats := 0
		for _, v := range z.ByCategory {
			cats += v
		}
		if z.IncidentCount != count || math.Abs(z.Weight-weight) > 0.006 || cats != count || count == 0 {
			t.Fatalf("zone %d: %d incidents weighing %v (%d by category), the oracle %d weighing %v", i, z.IncidentCount, z.Weight, cats, count, weight)
		}
	}

	// Incidents in a ring two cells out from an empty cell: the empty cell
	// is the hot spot (its neighbourhood holds the whole ring).
	e = NewEngine(Config{Now: func() time.Time { return exactNow }})
	centre := geo.Point{(float64(e.g.col(Lagos.Lng())) + 0.5) * e.g.deg, (float64(e.g.row(Lagos.Lat())) + 0.5) * e.g.deg}
	ring := 0
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			if max(dx, -dx, dy, -dy) != 2 {
				continue
			}
			for k := range 3 {
				e.Add(Report{At: exactNow.Add(-time.Duration(k+1) * time.Hour), Category: SOS, Severity: Medium,
					Location: geo.Point{centre.Lng() + float64(dx)*e.g.deg, centre.Lat() + float64(dy)*e.g.deg}})
				ring++
			}
		}
	}
	zones, _, _ = e.Zones(Query{}, boxM(centre, 5000), "", 0)
	if len(zones) != 1 || zones[0].IncidentCount != ring || zones[0].ByCategory["sos"] != ring || geo.Distance(zones[0].Center, centre) > 200 {
		t.Fatalf("a ring of %d incidents around an empty cell: zones %+v", ring, zones)
	}
}

// A cluster across the antimeridian is one zone, with the same z, level,
// figures and size as the same cluster at 0°; its polygon is cut at the
// seam into two parts (RFC 7946 §3.1.9), each closed, counterclockwise and
// within ±180.
func TestClusterAcrossTheAntimeridianIsOneZone(t *testing.T) {
	world := Synthetic{Center: geo.NewPoint(-16.5, 0), RadiusM: 8000, Background: 6000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 9,
		Spots: []Spot{{Center: geo.NewPoint(-16.5, 0), SigmaM: 200, Count: 120}}}
	at0, _ := load(t, 0, world.Generate)
	at180, _ := load(t, 0, func(fn func(Report)) {
		world.Generate(func(r Report) {
			r.Location = geo.Point{math.Remainder(r.Location.Lng()+180, 360), r.Location.Lat()}
			fn(r)
		})
	})
	zs0, _, err0 := at0.Zones(Query{}, Box{-0.06, -16.56, 0.06, -16.44}, "", 0)
	zs180, _, err180 := at180.Zones(Query{}, Box{179.94, -16.56, -179.94, -16.44}, "", 0)
	if err0 != nil || err180 != nil {
		t.Fatal(err0, err180)
	}
	near := func(zs []DangerZone, p geo.Point) []DangerZone {
		var out []DangerZone
		for _, z := range zs {
			if geo.Distance(z.Center, p) < 1500 {
				out = append(out, z)
			}
		}
		return out
	}
	a, b := near(zs0, geo.NewPoint(-16.5, 0)), near(zs180, geo.NewPoint(-16.5, 180))
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("%d zones at the cluster at 0°, %d at the one across the antimeridian", len(a), len(b))
	}
	z0, z1 := a[0], b[0]
	if z0.ZScore != z1.ZScore || z0.Level != z1.Level || z0.IncidentCount != z1.IncidentCount || z0.Weight != z1.Weight || z0.RadiusMeters != z1.RadiusMeters {
		t.Fatalf("at 0°: %s z %v, %d incidents weighing %v, %v m; across ±180: %s z %v, %d weighing %v, %v m",
			z0.Level, z0.ZScore, z0.IncidentCount, z0.Weight, z0.RadiusMeters, z1.Level, z1.ZScore, z1.IncidentCount, z1.Weight, z1.RadiusMeters)
	}
	if len(z0.PolygonParts) != 0 || len(z1.PolygonParts) != 2 || !slices.ContainsFunc(z1.PolygonParts, func(p []geo.Point) bool { return slices.Equal(p, z1.Polygon) }) {
		t.Fatalf("polygon parts: %d at 0°, %d across the seam", len(z0.PolygonParts), len(z1.PolygonParts))
	}
	area := 0.0
	for i, part := range z1.PolygonParts {
		seam := []float64{180, -180}[i] // west part first: it ends at 180
		touches := false
		for _, p := range part {
			if p.Lng() < -180 || p.Lng() > 180 {
				t.Fatalf("part %d leaves ±180: %v", i, part)
			}
			touches = touches || p.Lng() == seam
		}
		if a := ringArea(part); !touches || a <= 0 || part[0] != part[len(part)-1] {
			t.Fatalf("part %d: touches %v, signed area %v, closed %v: %v", i, seam, a, part[0] == part[len(part)-1], part)
		}
		area += ringArea(part)
	}
	if math.Abs(area-ringArea(z0.Polygon)) > 1e-9*ringArea(z0.Polygon) {
		t.Fatalf("the parts cover %v deg², the zone at 0° %v", area, ringArea(z0.Polygon))
	}
	// The whole seam study is one: its cold cells (the empty corners of the
	// box, beyond the background's disc) are those at 0°, none more at ±180.
	s0, _ := studyOf(t, at0, Box{-0.06, -16.56, 0.06, -16.44}, 90)
	s1, _ := studyOf(t, at180, Box{179.94, -16.56, -179.94, -16.44}, 90)
	if c0, c1 := s0.spots(false), s1.spots(false); len(c0) != len(c1) {
		t.Fatalf("%d cold cells at 0°, %d across the seam", len(c0), len(c1))
	}
	// And a heatmap across the seam counts what the one at 0° does.
	h0, _ := at0.Heatmap(Query{}, Box{-0.06, -16.56, 0.06, -16.44}, 500)
	h1, _ := at180.Heatmap(Query{}, Box{179.94, -16.56, -179.94, -16.44}, 500)
	if h0.TotalIncidents != h1.TotalIncidents || len(h0.Cells) != len(h1.Cells) || h0.MaxWeight != h1.MaxWeight {
		t.Fatalf("heatmap at 0°: %d incidents, %d cells, max %v; across the seam %d, %d, %v",
			h0.TotalIncidents, len(h0.Cells), h0.MaxWeight, h1.TotalIncidents, len(h1.Cells), h1.MaxWeight)
	}
}

// ringArea is the signed planar area of a closed ring in degrees²
// (positive counterclockwise).
func ringArea(r []geo.Point) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i].Lng()*r[i+1].Lat() - r[i+1].Lng()*r[i].Lat()
	}
	return a / 2
}

// zoneAreaM2 is the ground area of a zone's polygon, in m².
func zoneAreaM2(z DangerZone) float64 {
	return ringArea(z.Polygon) * metersPerDegree * metersPerDegree * math.Cos(z.Center.Lat()*degToRad)
}

// The Gi* neighbourhood covers the same ground at every latitude: the same
// cluster (in metres) at 78° N is found as a zone of the same area as at
// the equator, within 25 %.
func TestHighLatitudeZoneHasTheSameArea(t *testing.T) {
	area := map[float64]float64{}
	for _, lat := range []float64{0, 78} {
		centre := geo.NewPoint(lat, 15)
		world := Synthetic{Center: centre, RadiusM: 7000, Background: 8000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 11,
			Spots: []Spot{{Center: centre, SigmaM: 150, Count: 150}}}
		e, _ := load(t, 0, world.Generate)
		zs, _, err := e.Zones(Query{}, boxM(centre, 4000), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, z := range zs {
			if geo.Distance(z.Center, centre) < 500 {
				area[lat] = zoneAreaM2(z)
				found++
			}
		}
		if found != 1 {
			t.Fatalf("at %v°: %d zones at the cluster (%d in all)", lat, found, len(zs))
		}
	}
	if r := area[78] / area[0]; r < 0.75 || r > 1.25 {
		t.Fatalf("zone area %.0f m² at 78° N, %.0f m² at the equator: ratio %.2f", area[78], area[0], r)
	}
	t.Logf("zone area %.0f m² at the equator, %.0f m² at 78° N", area[0], area[78])
}

// Where incidents are everywhere, a quiet place among them is a cold spot,
// and the safe zones of danger analytics start with it. Empty land past
// the edge of the data is cold too, but no safe zone: a safe zone has
// incidents within 1 km, so its quiet is known. On sparse data no cell is
// significantly quiet.
func TestColdSpotsFeedSafeZones(t *testing.T) {
	hole := offsetM(Lagos, 300, -200)
	busy := Synthetic{Center: Lagos, RadiusM: 4000, Background: 40000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 5}
	e, b := load(t, 0, func(fn func(Report)) {
		busy.Generate(func(r Report) {
			if geo.Distance(r.Location, hole) > 450 {
				fn(r)
			}
		})
	})
	an, err := e.Analytics(AnalyticsQuery{Location: Lagos, RadiusM: 1500})
	if err != nil {
		t.Fatal(err)
	}
	safe := an.SafeZones.Zones
	if len(safe) == 0 || geo.Distance(safe[0].Center, hole) > 250 || safe[0].RadiusMeters < 200 {
		t.Fatalf("safe zones %+v; the quiet hole is at %v", safe, hole)
	}
	// At the edge of the data: the empty land beyond is a cold spot.
	edge := offsetM(Lagos, 4800, 0)
	s, _ := studyOf(t, e, boxAround(edge, 2000), 90)
	if len(s.spots(false)) == 0 {
		t.Fatal("no cold cell past the edge of the data")
	}
	an, _ = e.Analytics(AnalyticsQuery{Location: edge, RadiusM: 2000})
	for _, z := range an.SafeZones.Zones {
		if n, _ := b.circle(z.Center, 1000, 90); n == 0 {
			t.Fatalf("safe zone %+v has no incident within 1 km", z)
		}
	}
	sparse, _ := load(t, 0, truthLike.Generate)
	s, _ = studyOf(t, sparse, boxM(Lagos, 8000), 90)
	if cold := s.spots(false); len(cold) != 0 {
		t.Fatalf("%d cold cells on sparse data", len(cold))
	}
}

// truthLike is the planted truth of truth_test.go's density: 3,000
// incidents in 90 days within 12 km.
var truthLike = Synthetic{Center: Lagos, RadiusM: 12000, Background: 3000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 7}
