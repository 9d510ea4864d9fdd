package threat

import (
	"math"
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

// RouteQuery asks for a route's safety.
type RouteQuery struct {
	Query
	Path    []geo.Point
	BufferM float64 // default 150; 25–1,000
}

// Route rates a path: it is cut into segments of at most 500 m, each
// scored like a place from the decayed weight within buffer_m of it per
// km² of its corridor. With At, the corridor's hour-of-day profile scales
// every segment for that hour, as for a safety score.
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
	w, err := e.window(q.Query)
	if err != nil {
		return nil, err
	}
	ref := e.reference()
	out := &RouteSafety{BufferM: buffer, Window: w.wire(), Segments: []RouteSegment{}, DangerZones: []string{},
		GeneratedAt: clock.At(e.now().UTC().Truncate(time.Millisecond))}
	var total float64
	for i := 0; i+1 < len(q.Path); i++ {
		a, b := q.Path[i], q.Path[i+1]
		d := geo.Distance(a, b)
		total += d
		if total > 2_000_000 {
			return nil, setyerr.Invalidf("path", "must be at most 2,000 km long")
		}
		pieces := max(1, int(math.Ceil(d/maxSegmentM)))
		for j := range pieces {
			from, to := geo.Interpolate(a, b, float64(j)/float64(pieces)), geo.Interpolate(a, b, float64(j+1)/float64(pieces))
			out.Segments = append(out.Segments, RouteSegment{Index: len(out.Segments), From: from, To: to, DistanceMeters: math.Round(d / float64(pieces))})
		}
	}
	out.DistanceMeters = math.Round(total)

	minLng, minLat, maxLng, maxLat := 180.0, 90.0, -180.0, -90.0
	for _, p := range q.Path {
		minLng, maxLng = math.Min(minLng, p.Lng()), math.Max(maxLng, p.Lng())
		minLat, maxLat = math.Min(minLat, p.Lat()), math.Max(maxLat, p.Lat())
	}
	e.mu.RLock()
	// Weigh every segment first: with At, the whole corridor's hour profile
	// scales them all alike before they are scored.
	weights := make([]float64, len(out.Segments))
	var hours [24]int
	incidents := 0
	for i := range out.Segments {
		s := &out.Segments[i]
		weights[i], s.IncidentCount = e.corridor(&w, s.From, s.To, buffer, &hours)
		incidents += s.IncidentCount
	}
	factor := 1.0
	if !q.At.IsZero() && incidents > 0 {
		factor = hourFactor(hours, incidents, q.At.UTC().Hour())
	}
	var sum float64
	worst := 101
	for i := range out.Segments {
		s := &out.Segments[i]
		area := (s.DistanceMeters*2*buffer + math.Pi*buffer*buffer) / 1e6
		s.Score = ref.scoreOf(weights[i] * factor / area)
		s.Level = Level(s.Score)
		sum += float64(s.Score) * math.Max(s.DistanceMeters, 1)
		if s.Score < worst {
			worst, out.WorstSegment = s.Score, i
		}
	}
	// Zones along the route, when the route's box is small enough to study.
	pad := buffer / metersPerDegree
	if zs, err := e.zones(&w, Box{minLng - pad, minLat - pad, maxLng + pad, maxLat + pad}); err == nil {
		for _, z := range zs {
			for _, s := range out.Segments {
				if distToSegment(z.Center, s.From, s.To) <= z.RadiusMeters+buffer {
					out.DangerZones = append(out.DangerZones, z.ZoneID)
					break
				}
			}
		}
	}
	e.mu.RUnlock()
	weighted := sum / math.Max(out.DistanceMeters, float64(len(out.Segments)))
	out.Score = int(math.Min(math.Round(weighted), float64(worst+30)))
	out.Level = Level(out.Score)
	return out, nil
}

// corridor sums the cells whose centers lie within buffer of the segment,
// adding their hour-of-day counts to hours; callers hold e.mu.
func (e *Engine) corridor(w *window, a, b geo.Point, buffer float64, hours *[24]int) (float64, int) {
	mid := geo.Interpolate(a, b, 0.5)
	reach := geo.Distance(a, b)/2 + buffer
	var sum float64
	n := 0
	e.near(mid, reach, func(k cellKey, c *cell, _ float64) {
		if distToSegment(e.g.center(k), a, b) <= buffer {
			ws, ns := w.weight(c)
			sum += ws
			n += ns
			for _, bk := range w.span(c) {
				for h, v := range bk.hours {
					hours[h] += int(v)
				}
			}
		}
	})
	return sum, n
}

// distToSegment is the distance in metres from p to segment ab, on a local
// flat projection (fine at segment scale).
func distToSegment(p, a, b geo.Point) float64 {
	cos := math.Cos(p.Lat() * math.Pi / 180)
	ax, ay := (a.Lng()-p.Lng())*cos*metersPerDegree, (a.Lat()-p.Lat())*metersPerDegree
	bx, by := (b.Lng()-p.Lng())*cos*metersPerDegree, (b.Lat()-p.Lat())*metersPerDegree
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Hypot(x, y)
}
