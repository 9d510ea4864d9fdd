package threat

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/setyerr"
)

// RouteSafety rates a route segment by segment.
type RouteSafety struct {
	Score          int            `json:"score" example:"71" doc:"Length-weighted mean of the segment scores, at most the worst segment's + 30."`
	Level          ScoreLevel     `json:"level" doc:"The band of the route score."`
	DistanceMeters float64        `json:"distance_meters" example:"5230.4" doc:"Length of the route, in metres."`
	BufferM        float64        `json:"buffer_m" example:"150" doc:"The corridor half-width used, in metres."`
	Segments       []RouteSegment `json:"segments" nullable:"false" doc:"The route in segments of at most 500 m, in order."`
	WorstSegment   int            `json:"worst_segment" example:"4" doc:"Index of the lowest-scoring segment."`
	DangerZones    []string       `json:"danger_zones" nullable:"false" example:"[\"zone_k7m2p9x4q1w8z3r5\"]" doc:"Ids of the danger zones the route passes through."`
	Window         Window         `json:"window" doc:"The incidents counted: created within it."`
	GeneratedAt    clock.Time     `json:"generated_at" doc:"When the answer was computed."`
}

// RouteSegment is a stretch of at most 500 m.
type RouteSegment struct {
	Index          int        `json:"index" example:"0" doc:"Position of the segment on the route, from 0."`
	From           geo.Point  `json:"from" nullable:"false" example:"[3.3792,6.5244]" doc:"Where the segment starts, [longitude, latitude]."`
	To             geo.Point  `json:"to" nullable:"false" example:"[3.3841,6.5201]" doc:"Where it ends."`
	DistanceMeters float64    `json:"distance_meters" example:"498.7" doc:"Its length, in metres."`
	Score          int        `json:"score" example:"64" doc:"Its safety score, 0–100, from the incidents within buffer_m."`
	Level          ScoreLevel `json:"level" doc:"The band of its score."`
	IncidentCount  int        `json:"incident_count" example:"2" doc:"Incidents within its corridor and the window."`
}

const maxSegmentM = 500.0

// MaxRouteM caps a route's length: 500 km, so at most 1,499 segments
// (1,000 plus one per leg).
const MaxRouteM = 500_000.0

// RouteQuery asks for a route's safety.
type RouteQuery struct {
	Query
	Path    []geo.Point
	BufferM float64 // default 150; 25–1,000
}

// Route rates a path: every leg follows the great circle between its
// points (across the antimeridian and near the poles too) and is cut into
// segments of at most 500 m, each scored like a place from the decayed
// weight of the incidents within buffer_m of it (great-circle distance to
// the segment) per km² of its corridor. With At, the corridor's hour-of-day
// profile scales every segment for that hour, as for a safety score. A
// route has 2–500 points and at most MaxRouteM metres.
func (e *Engine) Route(q RouteQuery) (*RouteSafety, error) {
	if len(q.Path) < 2 || len(q.Path) > 500 {
		return nil, setyerr.Invalidf("path", "must have 2 to 500 points")
	}
	for _, p := range q.Path {
		if err := p.Validate("path"); err != nil {
			return nil, setyerr.Invalidf("path", "%v", err)
		}
	}
	buffer := q.BufferM
	if buffer == 0 {
		buffer = 150
	}
	if math.IsNaN(buffer) || buffer < 25 || buffer > 1000 {
		return nil, setyerr.Invalidf("buffer_m", "must be between 25 and 1000")
	}
	mem := routeMemories.Get().(*routeMemory)
	defer routeMemories.Put(mem)
	legs := geo.PathDistances(q.Path, mem.legs)
	mem.legs = legs
	var total float64
	n := 0 // segments
	for _, d := range legs {
		total += d
		n += pieces(d)
	}
	if total > MaxRouteM {
		return nil, setyerr.Invalidf("path", "is %.0f km long; at most %.0f km", total/1000, MaxRouteM/1000)
	}
	w, err := e.window(q.Query)
	if err != nil {
		return nil, err
	}
	ref := e.reference()
	out := &RouteSafety{BufferM: buffer, Window: w.wire(), Segments: make([]RouteSegment, 0, n), DangerZones: []string{},
		DistanceMeters: math.Round(total), GeneratedAt: clock.At(e.now().UTC().Truncate(time.Millisecond))}
	corridors := slices.Grow(mem.corridors[:0], n)[:n] // each made anew by init
	mem.corridors = corridors
	va := unit(q.Path[0])
	for i, d := range legs {
		a, b := q.Path[i], q.Path[i+1]
		vb := unit(b)
		k := pieces(d)
		var leg slerp
		if k > 1 {
			leg = newSlerp(va, vb)
		}
		from, vFrom := a, va
		for j := range k {
			to, vTo := b, vb
			if j+1 < k {
				to = leg.at(float64(j+1) / float64(k)).point()
				vTo = unit(to)
			}
			corridors[len(out.Segments)].init(from, to, vFrom, vTo, d/float64(k), buffer)
			out.Segments = append(out.Segments, RouteSegment{Index: len(out.Segments), From: from, To: to, DistanceMeters: math.Round(d / float64(k))})
			from, vFrom = to, vTo
		}
		va = vb
	}

	e.rlock(&w)
	// Weigh every segment first: with At, the whole corridor's hour profile
	// scales them all alike before they are scored.
	tallies := zeroed(mem.tallies, len(out.Segments))
	mem.tallies = tallies
	var hours [24]int
	e.weighCorridors(&w, corridors, !q.At.IsZero(), tallies, &hours)
	incidents := 0
	for i, t := range tallies {
		out.Segments[i].IncidentCount = t.n
		incidents += t.n
	}
	zones := e.routeZones(&w, out.Segments, corridors, buffer)
	e.mu.RUnlock()

	factor := 1.0
	if !q.At.IsZero() && incidents > 0 {
		factor = hourFactor(hours, incidents, q.At.UTC().Hour())
	}
	// Each segment's density, then their ranks all at once (see searchAll).
	dens := clean(mem.dens, len(out.Segments))
	for i := range out.Segments {
		s := &out.Segments[i]
		area := (s.DistanceMeters*2*buffer + math.Pi*buffer*buffer) / 1e6
		dens[i] = tallies[i].w * factor / area
	}
	ranks, left := clean(mem.ranks, len(dens)), clean(mem.left, len(dens))
	ref.searchAll(dens, ranks, left)
	mem.dens, mem.ranks, mem.left = dens, ranks, left
	var sum float64
	worst := 101
	for i := range out.Segments {
		s := &out.Segments[i]
		s.Score = ref.scoreAt(dens[i], ranks[i])
		s.Level = Level(s.Score)
		sum += float64(s.Score) * math.Max(s.DistanceMeters, 1)
		if s.Score < worst {
			worst, out.WorstSegment = s.Score, i
		}
	}
	for _, z := range zones { // each passed through, strongest first
		out.DangerZones = append(out.DangerZones, z.ZoneID)
	}
	weighted := sum / math.Max(out.DistanceMeters, float64(len(out.Segments)))
	out.Score = int(math.Min(math.Round(weighted), float64(worst+30)))
	out.Level = Level(out.Score)
	return out, nil
}

// routeMemory is the memory of a finished route's legs, corridors and
// tallies, kept for the next: a router's route of 500 points has as many
// corridors, tens of kilobytes that fresh allocations would zero and the
// collector chase every time.
type routeMemory struct {
	legs      []float64
	corridors []corridor
	tallies   []segmentTally
	dens      []float64 // each segment's density
	ranks     []int     // where each ranks among the reference's
	left      []int     // scratch of searchAll
}

var routeMemories = sync.Pool{New: func() any { return new(routeMemory) }}

// pieces is how many segments of at most maxSegmentM a leg of d metres is
// cut into.
func pieces(d float64) int { return max(1, int(math.Ceil(d/maxSegmentM))) }

// routeZones finds the danger zones of the route's box (padded by the
// buffer; one study across the antimeridian, as a bbox across it) that
// the route passes through (see passes), when the box is small enough to
// study (see maxZoneCells); callers hold e.mu. A group of cells is
// described only when its box may be near enough (see mayPass) and its
// centre and radius, worked out first, are: the rest of a description
// (its polygon's parts, its id, its level) went to waste for the zones a
// route's box holds and the route does not pass.
func (e *Engine) routeZones(w *window, segs []RouteSegment, corridors []corridor, buffer float64) []DangerZone {
	wanted := func(s *study, members []member) bool {
		if !mayPass(corridors, s.membersBox(members), buffer) {
			return false
		}
		center, _, radius := s.shape(members)
		return passes(corridors, center, radius, buffer)
	}
	zones, err := e.studyZones(w, routeBox(segs, buffer), false, wanted)
	if err != nil {
		return nil // too large to study
	}
	return zones
}

// routeBox is the box a route's zones are studied in: the route's, padded
// by the buffer, running east from the east end of its first longitude
// span to the west end of its last (across the antimeridian too).
func routeBox(segs []RouteSegment, buffer float64) Box {
	minLat, maxLat := 90.0, -90.0
	lng := segs[0].From.Lng()
	minLng, maxLng := lng, lng
	for _, s := range segs {
		for _, p := range []geo.Point{s.From, s.To} {
			lng += wrapLng(p.Lng() - lng) // unwrapped along the route
			minLng, maxLng = math.Min(minLng, lng), math.Max(maxLng, lng)
			minLat, maxLat = math.Min(minLat, p.Lat()), math.Max(maxLat, p.Lat())
		}
	}
	lat0, lat1, spans := around(minLng, minLat, maxLng, maxLat, buffer)
	return Box{spans.r[0][0], lat0, spans.r[spans.n-1][1], lat1}
}

// passes tells whether a segment comes within radius and buffer of a
// zone's centre: whether the route passes through it.
func passes(corridors []corridor, center geo.Point, radius, buffer float64) bool {
	zc := unit(center)
	// A segment whose start is farther from the zone's centre than its
	// reach and the segment's length cannot come within it: a dot product
	// rules most out before the exact distance (with a metre to spare for
	// rounding).
	near := math.Cos(math.Min(math.Pi, (radius+buffer+maxSegmentM+1)/geo.EarthRadiusMeters))
	for i := range corridors {
		c := &corridors[i]
		if zc.dot(c.s.a) >= near && c.s.dist(zc) <= radius+buffer {
			return true
		}
	}
	return false
}

// membersBox is the box of a zone's cells, its longitudes counted on from
// the zone's first cell as describe counts them (MaxLng may pass 180).
func (s *study) membersBox(members []member) Box {
	u0, u1, y0, y1 := members[0].u, members[0].u, members[0].i/s.nx, members[0].i/s.nx
	for _, m := range members[1:] {
		y := m.i / s.nx
		u0, u1, y0, y1 = min(u0, m.u), max(u1, m.u), min(y0, y), max(y1, y)
	}
	deg := s.g.deg
	return Box{MinLng: float64(s.x0+int32(u0)) * deg, MinLat: float64(s.y0+int32(y0)) * deg,
		MaxLng: float64(s.x0+int32(u1)+1) * deg, MaxLat: float64(s.y0+int32(y1)+1) * deg}
}

// mayPass tells whether a route of these corridors may pass through a
// zone of the cells in box: when it is false, no segment comes within the
// zone's radius and the buffer of its centre (the test Route makes), so
// the zone need not be described.
//
// Every point of the box is within ρ of its middle m (half its height,
// plus half its width along the parallel where it is widest, which is no
// shorter than the great circle). The zone's centre c is a weighted mean
// of its cells' centres, so in the box: |cm| ≤ ρ; its radius reaches a
// corner of the box, so it is at most |cm| + ρ ≤ 2ρ (+0.5 m, rounded). A
// segment within radius + buffer of c is then within 3ρ + buffer + 0.5 m
// of m; two metres to spare cover the rounding of the arithmetic.
func mayPass(corridors []corridor, box Box, buffer float64) bool {
	maxCos := 1.0
	if box.MinLat > 0 || box.MaxLat < 0 {
		maxCos = math.Cos(math.Min(math.Abs(box.MinLat), math.Abs(box.MaxLat)) * degToRad)
	}
	perDeg := geo.EarthRadiusMeters * degToRad
	rho := (box.MaxLat-box.MinLat)/2*perDeg + (box.MaxLng-box.MinLng)/2*perDeg*maxCos
	reach := 3*rho + buffer + 2
	m := unit(geo.Point{wrapLng((box.MinLng + box.MaxLng) / 2), (box.MinLat + box.MaxLat) / 2})
	near := math.Cos(math.Min(math.Pi, (reach+maxSegmentM+1)/geo.EarthRadiusMeters))
	for i := range corridors {
		if c := &corridors[i]; m.dot(c.s.a) >= near && c.s.dist(m) <= reach {
			return true
		}
	}
	return false
}
