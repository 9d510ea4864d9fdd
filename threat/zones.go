package threat

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/setyerr"
)

// DangerZone is a hot spot: connected cells whose Getis-Ord Gi* z-score is
// significant.
type DangerZone struct {
	ZoneID           string         `json:"zone_id" example:"zone_k7m2p9x4q1w8z3r5" doc:"The zone's id: zone_ and 16 lowercase letters or digits, the same while the zone's strongest cell is."`
	Level            ZoneLevel      `json:"level" doc:"The highest confidence at which the zone's cells are hot spots, as ArcGIS's Hot Spot Analysis bins them, each level after its own Benjamini–Hochberg false-discovery-rate correction over the cells studied: elevated 90 % (q 0.10), high 95 % (q 0.05), critical 99 % (q 0.01)."`
	ZScore           float64        `json:"z_score" example:"2.91" doc:"The highest Getis-Ord Gi* z-score of the zone's cells."`
	Center           geo.Point      `json:"center" nullable:"false" example:"[3.3792,6.5244]" doc:"Weighted centre of the zone's cells, [longitude, latitude]."`
	RadiusMeters     float64        `json:"radius_meters" example:"410" doc:"Distance from the centre to the farthest corner of the zone's cells, in metres."`
	Polygon          []geo.Point    `json:"polygon" nullable:"false" example:"[[3.377,6.522],[3.382,6.522],[3.382,6.527],[3.377,6.527],[3.377,6.522]]" doc:"The convex hull of the zone's cells, closed, counterclockwise. For a zone across the antimeridian, the part of it on the centre's side (see polygon_parts)."`
	PolygonParts     [][]geo.Point  `json:"polygon_parts,omitempty" nullable:"false" doc:"Only for a zone across the antimeridian: its hull cut at ±180 as RFC 7946 §3.1.9 says, west part (ending at 180) first, each ring closed and counterclockwise."`
	IncidentCount    int            `json:"incident_count" example:"14" doc:"Incidents within the window in the zone's cells and their Gi* neighbourhoods: the incidents its z-scores rest on, so never 0."`
	Weight           float64        `json:"weight" example:"23.6" doc:"Their decayed, severity-weighted sum."`
	ByCategory       map[string]int `json:"by_category" nullable:"false" example:"{\"sos\":8,\"vehicle\":4,\"location_threat\":2}" doc:"Those incidents per category."`
	DominantCategory string         `json:"dominant_category" example:"sos" doc:"The category with the most of them."`
	LastIncidentAt   clock.Time     `json:"last_incident_at" nullable:"true" doc:"When the newest of them was created; null when unknown."`
	PeakHours        []int          `json:"peak_hours" nullable:"false" example:"[22,23,21]" doc:"Their busiest UTC hours, busiest first."`
}

// Zones finds the hot spots of a box, strongest first: those of minLevel
// or stronger ("" for all), at most limit (0 for all).
func (e *Engine) Zones(q Query, box Box, minLevel ZoneLevel, limit int) ([]DangerZone, Window, error) {
	if err := box.Validate("bbox"); err != nil {
		return nil, Window{}, err
	}
	if minLevel != "" && !slices.Contains(ZoneLevels, minLevel) {
		return nil, Window{}, setyerr.Invalidf("min_level", "must be one of elevated, high, critical")
	}
	w, err := e.window(q)
	if err != nil {
		return nil, Window{}, err
	}
	e.rlock(&w)
	defer e.mu.RUnlock()
	zs, err := e.zones(&w, box)
	if err != nil {
		return nil, Window{}, err
	}
	least := max(0, slices.Index(ZoneLevels, minLevel))
	out := zs[:0]
	for _, z := range zs {
		if slices.Index(ZoneLevels, z.Level) >= least {
			out = append(out, z)
		}
	}
	return out[:minInt(limit, len(out))], w.wire(), nil
}

func minInt(a, b int) int {
	if a <= 0 {
		return b
	}
	return min(a, b)
}

// zones runs Gi* over the cells of box and merges significant cells into
// zones, strongest first; callers hold e.mu.
func (e *Engine) zones(w *window, box Box) ([]DangerZone, error) {
	return e.studyZones(w, box, true, nil)
}

// studyZones is zones; without full, zones carry their id, level, z,
// centre, radius and polygon only (what a route needs); with wanted, only
// the zones it keeps (see merge).
func (e *Engine) studyZones(w *window, box Box, full bool, wanted func(s *study, members []member) bool) ([]DangerZone, error) {
	s, err := e.newStudy(w, box, full)
	if err != nil {
		return nil, err
	}
	defer s.release()
	return e.merge(w, s, s.spots(true), full, wanted), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// member is a cell of a zone: its lattice index, and its lattice column
// counted on from the zone's first cell without wrapping round the ring
// (so a zone's cells are contiguous in it).
type member struct{ i, u int }

// merge joins significant cells (spots' indices, graded in s.sig) that
// touch (8-neighbours, around the ring too) into zones, strongest first.
// With wanted, it describes only the groups of cells wanted keeps (a
// zone's hull and id are most of merge's work).
func (e *Engine) merge(w *window, s *study, sig []int, full bool, wanted func(s *study, members []member) bool) []DangerZone {
	zones := []DangerZone{}
	var members, stack []member
	for _, start := range sig { // ascending: stable zone ids and output
		if s.seen[start] {
			continue
		}
		members, stack = members[:0], append(stack[:0], member{start, start % s.nx})
		s.seen[start] = true
		for len(stack) > 0 {
			m := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			members = append(members, m)
			x, y := m.i%s.nx, m.i/s.nx
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if s.ring {
						nx = (nx + s.nx) % s.nx
					}
					if nx < 0 || nx >= s.nx || ny < 0 || ny >= s.ny {
						continue
					}
					if k := ny*s.nx + nx; s.sig[k] > 0 && !s.seen[k] {
						s.seen[k] = true
						stack = append(stack, member{k, m.u + dx})
					}
				}
			}
		}
		if wanted == nil || wanted(s, members) {
			zones = append(zones, e.describe(w, s, members, full))
		}
	}
	for _, k := range sig {
		s.seen[k] = false // for the other side's spots
	}
	slices.SortStableFunc(zones, func(a, b DangerZone) int { return cmpFloat(math.Abs(b.ZScore), math.Abs(a.ZScore)) })
	return zones
}

// describe turns a group of cells into a DangerZone.
func (e *Engine) describe(w *window, s *study, members []member, full bool) DangerZone {
	z := DangerZone{ByCategory: map[string]int{}}
	var peak member
	grade := 0
	for _, m := range members {
		if v := s.zOf(m.i); math.Abs(v) > math.Abs(z.ZScore) {
			z.ZScore, peak = v, m
		}
		grade = max(grade, int(s.sig[m.i]))
	}
	var ring []geo.Point
	z.Center, ring, z.RadiusMeters = s.shape(members)
	parts := cutAtAntimeridian(ring)
	z.Polygon = parts[0]
	if len(parts) > 1 {
		z.PolygonParts = parts
		for _, p := range parts {
			if spansLng(p, z.Center.Lng()) {
				z.Polygon = p // the part on the centre's side
				break
			}
		}
	}
	z.ZScore = math.Round(z.ZScore*100) / 100
	z.Level = ZoneLevels[grade-1]
	if full {
		e.evidence(w, s, members, &z)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", keyOf(s.gridCol(peak.i%s.nx), s.y0+int32(peak.i/s.nx)))
	z.ZoneID = "zone_" + fmt.Sprintf("%016s", strconv.FormatUint(h.Sum64(), 36))[:16]
	return z
}

// shape is a zone's centre (the weight-weighted centre of its cells),
// the convex hull of its cells (see cellsHull) and its radius (from the
// centre to the hull's farthest corner, rounded to the metre).
func (s *study) shape(members []member) (center geo.Point, ring []geo.Point, radius float64) {
	deg := s.g.deg
	var cx, cy, cw float64
	for _, m := range members {
		west, south := float64(s.x0+int32(m.u))*deg, float64(s.y0+int32(m.i/s.nx))*deg
		wt := s.x[m.i] + 1e-9
		cx, cy, cw = cx+(west+deg/2)*wt, cy+(south+deg/2)*wt, cw+wt
	}
	ring = s.cellsHull(members)
	center = geo.Point{wrapLng(cx / cw), cy / cw}
	for _, p := range ring {
		radius = math.Max(radius, geo.Distance(center, geo.Point{wrapLng(p.Lng()), p.Lat()}))
	}
	return center, ring, math.Round(radius)
}

// evidence adds up what a zone's z-scores rest on: the incidents of its
// cells and of their Gi* neighbourhoods, each cell once.
func (e *Engine) evidence(w *window, s *study, members []member, z *DangerZone) {
	var covered []int
	for _, m := range members {
		x, y := m.i%s.nx, m.i/s.nx
		k := s.kx[y]
		ax, bx := x-k, x+k
		if s.ring && 2*k+1 >= s.nx {
			ax, bx = 0, s.nx-1
		} else if !s.ring {
			ax, bx = max(0, ax), min(s.nx-1, bx)
		}
		for ny := max(0, y-s.ky); ny <= min(s.ny-1, y+s.ky); ny++ {
			for nx := ax; nx <= bx; nx++ {
				i := ny*s.nx + (nx+s.nx)%s.nx
				if !s.marks[i] {
					s.marks[i] = true
					covered = append(covered, i)
				}
			}
		}
	}
	var hours [24]int
	var cats [4]int // by category index; a map increment per record would cost more than the rest
	var last int64
	for _, i := range covered {
		s.marks[i] = false
		z.Weight += s.x[i]
		z.IncidentCount += s.n[i]
		cl := s.cells[i]
		if cl == nil || s.n[i] == 0 {
			continue
		}
		lo, hi := w.span(cl)
		for k := lo; k < hi; k++ {
			if r := &cl.recs[k]; w.catMask[r.cat] {
				cats[r.cat]++
				hours[hourOf(r)]++
				last = max(last, int64(r.t))
			}
		}
	}
	z.Weight = math.Round(z.Weight*100) / 100
	for c, n := range cats {
		if n > 0 {
			z.ByCategory[string(Categories[c])] = n
		}
	}
	best := 0
	for c, n := range z.ByCategory {
		if n > best || n == best && c < z.DominantCategory {
			z.DominantCategory, best = c, n
		}
	}
	if last > 0 {
		z.LastIncidentAt = clock.At(time.Unix(last, 0).UTC())
	}
	z.PeakHours = peakHours(hours, 3)
}

// peakHours lists the busiest hours with incidents, busiest first.
func peakHours(hours [24]int, limit int) []int {
	order := make([]int, 24)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return hours[b] - hours[a] })
	out := []int{}
	for _, h := range order[:limit] {
		if hours[h] > 0 {
			out = append(out, h)
		}
	}
	return out
}

// cellsHull is the convex hull of the corners of a zone's cells, closed
// and counterclockwise: the hull that Andrew's monotone chain makes of
// every corner, sorted by longitude then latitude.
//
// Of the corners on one column edge only the southernmost and the
// northernmost can be on the hull (the others lie between them, and the
// chain drops points in line), so it takes just those, and in the chain's
// order without sorting: edge by edge west to east, south then north.
// Sorting four corners a cell was most of a route's zones. A column's
// east edge (its west edge plus a cell) and the next column's west edge
// may differ in the last bit: each is then an edge of its own, in the
// order of their longitudes, as a sort would put them.
func (s *study) cellsHull(members []member) []geo.Point {
	u0, u1 := members[0].u, members[0].u
	for _, m := range members[1:] {
		u0, u1 = min(u0, m.u), max(u1, m.u)
	}
	// Each column's southernmost and northernmost row (a zone's cells
	// touch, so every column between its first and last has some).
	lo, hi := make([]int, u1-u0+1), make([]int, u1-u0+1)
	for c := range lo {
		lo[c], hi[c] = math.MaxInt, -1
	}
	for _, m := range members {
		y := m.i / s.nx
		lo[m.u-u0], hi[m.u-u0] = min(lo[m.u-u0], y), max(hi[m.u-u0], y)
	}
	deg := s.g.deg
	pts := make([]geo.Point, 0, 4*len(lo)+2)
	// edge adds a column edge's extreme corners, merged with the previous
	// edge's when they are at the same longitude.
	edge := func(x, south, north float64) {
		if n := len(pts); n > 0 && pts[n-1][0] == x {
			pts[n-2][1], pts[n-1][1] = math.Min(pts[n-2][1], south), math.Max(pts[n-1][1], north)
			return
		}
		pts = append(pts, geo.Point{x, south}, geo.Point{x, north})
	}
	var east, eastS, eastN float64 // the previous column's east edge, not yet added
	for c := range lo {
		south, north := float64(s.y0+int32(lo[c]))*deg, float64(s.y0+int32(hi[c]))*deg+deg
		west := float64(s.x0+int32(u0+c)) * deg
		if c > 0 && east < west {
			edge(east, eastS, eastN)
		}
		edge(west, south, north)
		if c > 0 && east >= west {
			edge(east, eastS, eastN)
		}
		east, eastS, eastN = west+deg, south, north
	}
	edge(east, eastS, eastN)
	return monotoneChain(pts)
}

// monotoneChain is the convex hull, closed, of points sorted by x then y,
// without repeats (Andrew's monotone chain).
func monotoneChain(pts []geo.Point) []geo.Point {
	if len(pts) < 3 {
		return pts
	}
	cross := func(o, a, b geo.Point) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	var h []geo.Point
	for _, p := range pts {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	lower := len(h) + 1
	for i := len(pts) - 2; i >= 0; i-- {
		p := pts[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	return h // the last point repeats the first: a closed ring
}
