package threat

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// A route describes only the zones it may pass through (mayPass): the
// bound never rules out a zone whose radius and the buffer a segment comes
// within, for zones around Lagos, across the antimeridian and at 70°N,
// and segments of every length and buffer near and far from them.
func TestMayPassNeverRulesOutAZoneARoutePasses(t *testing.T) {
	worlds := routeZoneWorlds()
	rng := rand.New(rand.NewPCG(27, 7))
	for name, world := range worlds {
		e, _ := load(t, 0, world.Generate)
		c := world.Center
		dLng := 0.08 / math.Cos(c.Lat()*degToRad)
		box := Box{wrapLng(c.Lng() - dLng), c.Lat() - 0.08, wrapLng(c.Lng() + dLng), c.Lat() + 0.08}
		type described struct {
			z   DangerZone
			box Box
		}
		var zones []described
		w := newWindow(exactNow, 90, e.cfg.HalfLife, "")
		e.rlock(&w)
		_, err := e.studyZones(&w, box, false, func(s *study, members []member) bool {
			zones = append(zones, described{e.describe(&w, s, members, false), s.membersBox(members)})
			return false
		})
		e.mu.RUnlock()
		if err != nil || len(zones) == 0 {
			t.Fatalf("%s: %d zones, %v", name, len(zones), err)
		}
		straddles := false
		for _, z := range zones {
			straddles = straddles || z.box.MinLng < 180 && z.box.MaxLng > 180
		}
		if name == "seam" && !straddles {
			t.Fatalf("no zone straddles the antimeridian")
		}
		passed, ruledOut := 0, 0
		for range 4000 {
			z := zones[rng.IntN(len(zones))]
			buffer := 25 + rng.Float64()*975
			// A segment starting up to 8 km beyond its reach (and its length) from the zone's
			// centre, in any direction.
			off := rng.Float64() * (z.z.RadiusMeters + buffer + 8000)
			from := destination(z.z.Center, rng.Float64()*2*math.Pi, off)
			d := rng.Float64() * maxSegmentM
			to := destination(from, rng.Float64()*2*math.Pi, d)
			var cs [1]corridor
			cs[0].init(from, to, unit(from), unit(to), geo.Distance(from, to), buffer)
			exact := cs[0].s.dist(unit(z.z.Center)) <= z.z.RadiusMeters+buffer
			may := mayPass(cs[:], z.box, buffer)
			if exact && !may {
				t.Fatalf("%s: a segment %v–%v (buffer %.0f m) passes zone %v (radius %.0f m, cells in %v), which mayPass rules out",
					name, from, to, buffer, z.z.Center, z.z.RadiusMeters, z.box)
			}
			if exact {
				passed++
			}
			if !may {
				ruledOut++
			}
		}
		if passed < 200 || ruledOut < 200 {
			t.Fatalf("%s: %d segments passed a zone and %d were ruled out: the test tries too little of either", name, passed, ruledOut)
		}
	}
}

// A route's danger zones are exactly the zones of its box (every one
// described, as a bbox search describes them) whose centre is within
// their radius and the buffer of one of its segments, strongest first:
// ruling zones out before describing them (mayPass, then their centre
// and radius) changes nothing. Random routes around Lagos, across the
// antimeridian and at 70°N, of 2–6 points and every buffer.
func TestRouteZonesAreTheBoxZonesItPasses(t *testing.T) {
	worlds := routeZoneWorlds()
	rng := rand.New(rand.NewPCG(27, 9))
	for name, world := range worlds {
		e, _ := load(t, 0, world.Generate)
		passed, notPassed := 0, 0
		for k := range 60 {
			buffer := 25 + rng.Float64()*975
			path := []geo.Point{destination(world.Center, rng.Float64()*2*math.Pi, rng.Float64()*6000)}
			for range 1 + rng.IntN(5) {
				path = append(path, destination(path[len(path)-1], rng.Float64()*2*math.Pi, 300+rng.Float64()*4700))
			}
			r, err := e.Route(RouteQuery{Path: path, BufferM: buffer})
			if err != nil {
				t.Fatal(err)
			}
			w := newWindow(exactNow, 90, e.cfg.HalfLife, "")
			e.rlock(&w)
			all, err := e.studyZones(&w, routeBox(r.Segments, buffer), false, nil)
			e.mu.RUnlock()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for _, z := range all {
				in := false
				for _, s := range r.Segments {
					in = in || newCorridor(s.From, s.To, buffer).s.dist(unit(z.Center)) <= z.RadiusMeters+buffer
				}
				if in {
					want = append(want, z.ZoneID)
				}
			}
			passed += len(want)
			notPassed += len(all) - len(want)
			if !slices.Equal(r.DangerZones, want) {
				t.Fatalf("%s, route %d (%d points, buffer %.0f m): zones %v, want %v of the box's %d", name, k, len(path), buffer, r.DangerZones, want, len(all))
			}
		}
		if passed < 10 || notPassed < 10 {
			t.Fatalf("%s: routes passed %d zones and not %d others: the test tries too little of either", name, passed, notPassed)
		}
		t.Logf("%s: %d zones passed, %d not", name, passed, notPassed)
	}
}

// routeZoneWorlds are the route-zone tests' worlds: Lagos, and two hot
// spots each across the antimeridian and at 70°N.
func routeZoneWorlds() map[string]Synthetic {
	spotsAt := func(c geo.Point) Synthetic {
		return Synthetic{Center: c, RadiusM: 20000, Background: 20000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 3,
			Spots: []Spot{{Center: c, SigmaM: 250, Count: 150}, {Center: geo.Point{c.Lng() + 0.03/math.Cos(c.Lat()*degToRad), c.Lat() + 0.02}, SigmaM: 400, Count: 200}}}
	}
	return map[string]Synthetic{"lagos": LagosYear(exactNow, 20_000, 5), "seam": spotsAt(geo.Point{180, -16.5}), "north": spotsAt(geo.Point{20, 70})}
}
