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
	Level            ZoneLevel      `json:"level" doc:"By the zone's highest z: 1.65 elevated, 1.96 high, 2.58 critical."`
	ZScore           float64        `json:"z_score" example:"2.91" doc:"The highest Getis-Ord Gi* z-score of the zone's cells."`
	Center           geo.Point      `json:"center" nullable:"false" example:"[3.3792,6.5244]" doc:"Weighted centre of the zone, [longitude, latitude]."`
	RadiusMeters     float64        `json:"radius_meters" example:"410" doc:"Distance from the centre to the farthest cell corner, in metres."`
	Polygon          []geo.Point    `json:"polygon" nullable:"false" example:"[[3.377,6.522],[3.382,6.522],[3.382,6.527],[3.377,6.527],[3.377,6.522]]" doc:"The convex hull of the zone's cells, closed."`
	IncidentCount    int            `json:"incident_count" example:"14" doc:"Incidents in the zone within the window."`
	Weight           float64        `json:"weight" example:"23.6" doc:"Decayed, severity-weighted incidents."`
	ByCategory       map[string]int `json:"by_category" nullable:"false" example:"{\"sos\":8,\"vehicle\":4,\"location_threat\":2}" doc:"Incidents per category."`
	DominantCategory string         `json:"dominant_category" example:"sos" doc:"The category with the most incidents."`
	LastIncidentAt   clock.Time     `json:"last_incident_at" nullable:"true" doc:"When the zone's newest incident was created; null when unknown."`
	PeakHours        []int          `json:"peak_hours" nullable:"false" example:"[22,23,21]" doc:"The busiest UTC hours, busiest first."`
}

// Box is a bounding box in degrees.
type Box struct{ MinLng, MinLat, MaxLng, MaxLat float64 }

// Validate checks the box's order and ranges, naming field.
func (b Box) Validate(field string) error {
	for _, p := range []geo.Point{{b.MinLng, b.MinLat}, {b.MaxLng, b.MaxLat}} {
		if err := p.Validate(field); err != nil {
			return setyerr.Invalidf(field, "%v", err)
		}
	}
	if b.MinLng >= b.MaxLng || b.MinLat >= b.MaxLat {
		return setyerr.Invalidf(field, "must be minLng,minLat,maxLng,maxLat with min < max")
	}
	return nil
}

// Significance thresholds of Gi* z-scores (one-sided 95 %, 97.5 %, 99.5 %).
const (
	zElevated = 1.65
	zHigh     = 1.96
	zCritical = 2.58
)

// zoneNeighbourhood is the radius, in cells, of the Gi* neighbourhood.
const zoneNeighbourhood = 2

// maxZoneCells bounds the cells a zone search studies (about 63 km × 63 km
// at 250 m).
const maxZoneCells = 256 * 256

// falseDiscoveryRate controls the share of false hot spots among those
// reported (Benjamini–Hochberg).
const falseDiscoveryRate = 0.05

// study is the grid of one box: its cells' weights and counts, with a
// margin wide enough for every neighbourhood.
type study struct {
	x0, y0, nx, ny int32
	w              []float64
	n              []int
	cells          []*cell
}

func (s *study) at(x, y int32) int { return int((y-s.y0)*s.nx + (x - s.x0)) }

// Zones finds the hot spots of a box.
func (e *Engine) Zones(q Query, box Box, minLevel ZoneLevel, limit int) ([]DangerZone, Window, error) {
	if err := box.Validate("bbox"); err != nil {
		return nil, Window{}, err
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
	min := map[ZoneLevel]float64{"": zElevated, ZoneElevated: zElevated, ZoneHigh: zHigh, ZoneCritical: zCritical}[minLevel]
	out := zs[:0]
	for _, z := range zs {
		if z.ZScore >= min {
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
func (e *Engine) zones(w *window, box Box) ([]DangerZone, error) { return e.studyZones(w, box, true) }

// studyZones is zones; without full, zones carry their id, level, z,
// centre, radius and polygon only (what a route needs).
func (e *Engine) studyZones(w *window, box Box, full bool) ([]DangerZone, error) {
	x0, y0, x1, y1 := e.g.col(box.MinLng), e.g.row(box.MinLat), e.g.col(box.MaxLng), e.g.row(box.MaxLat)
	nx, ny := x1-x0+1, y1-y0+1
	if int64(nx)*int64(ny) > maxZoneCells {
		return nil, setyerr.Invalidf("bbox", "is too large: at most %d × %d cells of %.0f m", 256, 256, e.cfg.CellM)
	}
	m := int32(zoneNeighbourhood)
	s := &study{x0: x0 - m, y0: y0 - m, nx: nx + 2*m, ny: ny + 2*m}
	size := int(s.nx * s.ny)
	s.w, s.n, s.cells = make([]float64, size), make([]int, size), make([]*cell, size)
	e.cellsIn(float64(s.y0)*e.g.deg, (float64(s.y0+s.ny)-0.5)*e.g.deg,
		[][2]float64{{float64(s.x0) * e.g.deg, (float64(s.x0+s.nx) - 0.5) * e.g.deg}}, func(c *cell) {
			if c.x < s.x0 || c.x >= s.x0+s.nx || c.y < s.y0 || c.y >= s.y0+s.ny {
				return
			}
			i := s.at(c.x, c.y)
			s.w[i], s.n[i] = w.weight(c)
			s.cells[i] = c
		})
	// Global mean and deviation over the study area (box and margin).
	var sum, sum2 float64
	for _, v := range s.w {
		sum += v
		sum2 += v * v
	}
	n := float64(size)
	mean := sum / n
	sd := math.Sqrt(math.Max(0, sum2/n-mean*mean))
	if sd == 0 {
		return []DangerZone{}, nil
	}
	// Local sums over each neighbourhood from a summed-area table.
	sat := make([]float64, (s.nx+1)*(s.ny+1))
	for y := int32(0); y < s.ny; y++ {
		row := 0.0
		for x := int32(0); x < s.nx; x++ {
			row += s.w[y*s.nx+x]
			sat[(y+1)*(s.nx+1)+x+1] = sat[y*(s.nx+1)+x+1] + row
		}
	}
	local := func(x, y int32) (float64, float64) { // sum and number of neighbours, clipped to the study
		ax, ay := max(0, x-s.x0-m), max(0, y-s.y0-m)
		bx, by := min(s.nx-1, x-s.x0+m), min(s.ny-1, y-s.y0+m)
		W := s.nx + 1
		v := sat[(by+1)*W+bx+1] - sat[ay*W+bx+1] - sat[(by+1)*W+ax] + sat[ay*W+ax]
		return v, float64((bx - ax + 1) * (by - ay + 1))
	}
	type scored struct {
		x, y int32
		z, p float64
	}
	var cands []scored
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			lsum, wsum := local(x, y)
			if lsum == 0 {
				continue
			}
			z := (lsum - mean*wsum) / (sd * math.Sqrt((n*wsum-wsum*wsum)/(n-1)))
			if z >= zElevated {
				cands = append(cands, scored{x, y, z, 0.5 * math.Erfc(z/math.Sqrt2)})
			}
		}
	}
	// Benjamini–Hochberg over every cell of the box: keep the largest k
	// whose p is at most k/N·q.
	slices.SortFunc(cands, func(a, b scored) int { return cmpFloat(a.p, b.p) })
	N := float64(nx) * float64(ny)
	keep := 0
	for i, c := range cands {
		if c.p <= float64(i+1)/N*falseDiscoveryRate {
			keep = i + 1
		}
	}
	sig := map[cellKey]float64{}
	for _, c := range cands[:keep] {
		sig[keyOf(c.x, c.y)] = c.z
	}
	return e.merge(w, s, sig, full), nil
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

// merge joins significant cells that touch (8-neighbours) into zones.
func (e *Engine) merge(w *window, s *study, sig map[cellKey]float64, full bool) []DangerZone {
	seen := map[cellKey]bool{}
	keys := make([]cellKey, 0, len(sig))
	for k := range sig {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable order makes zone ids and output stable
	var zones []DangerZone
	for _, start := range keys {
		if seen[start] {
			continue
		}
		var members []cellKey
		stack := []cellKey{start}
		seen[start] = true
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			members = append(members, k)
			x, y := k.xy()
			for dy := int32(-1); dy <= 1; dy++ {
				for dx := int32(-1); dx <= 1; dx++ {
					nk := keyOf(x+dx, y+dy)
					if _, ok := sig[nk]; ok && !seen[nk] {
						seen[nk] = true
						stack = append(stack, nk)
					}
				}
			}
		}
		zones = append(zones, e.describe(w, s, members, sig, full))
	}
	slices.SortStableFunc(zones, func(a, b DangerZone) int { return cmpFloat(b.ZScore, a.ZScore) })
	return zones
}

// describe turns a group of cells into a DangerZone.
func (e *Engine) describe(w *window, s *study, members []cellKey, sig map[cellKey]float64, full bool) DangerZone {
	z := DangerZone{ByCategory: map[string]int{}}
	var peak cellKey
	var cx, cy, cw float64
	var hours [24]int
	var last int64
	var corners []geo.Point
	for _, k := range members {
		if sig[k] > z.ZScore {
			z.ZScore, peak = sig[k], k
		}
		x, y := k.xy()
		i := s.at(x, y)
		c := e.g.center(k)
		wt := s.w[i] + 1e-9
		cx, cy, cw = cx+c.Lng()*wt, cy+c.Lat()*wt, cw+wt
		z.Weight += s.w[i]
		z.IncidentCount += s.n[i]
		if cl := s.cells[i]; cl != nil && full {
			lo, hi := w.span(cl)
			for k := lo; k < hi; k++ {
				if r := &cl.recs[k]; w.catMask[r.cat] {
					z.ByCategory[string(Categories[r.cat])]++
					hours[hourOf(r)]++
					last = max(last, int64(r.t))
				}
			}
		}
		for _, d := range [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
			corners = append(corners, geo.Point{(float64(x) + d[0]) * e.g.deg, (float64(y) + d[1]) * e.g.deg})
		}
	}
	z.Center = geo.Point{cx / cw, cy / cw}
	for _, k := range members {
		z.RadiusMeters = math.Max(z.RadiusMeters, geo.Distance(z.Center, e.g.center(k)))
	}
	z.RadiusMeters = math.Round(z.RadiusMeters + e.cfg.CellM/math.Sqrt2)
	z.Polygon = hull(corners)
	z.ZScore = math.Round(z.ZScore*100) / 100
	z.Weight = math.Round(z.Weight*100) / 100
	z.Level = zoneLevel(z.ZScore)
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
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", peak)
	z.ZoneID = "zone_" + fmt.Sprintf("%016s", strconv.FormatUint(h.Sum64(), 36))[:16]
	return z
}

func zoneLevel(z float64) ZoneLevel {
	switch {
	case z >= zCritical:
		return ZoneCritical
	case z >= zHigh:
		return ZoneHigh
	}
	return ZoneElevated
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

// hull is the convex hull of points (Andrew's monotone chain), closed.
func hull(pts []geo.Point) []geo.Point {
	slices.SortFunc(pts, func(a, b geo.Point) int {
		if c := cmpFloat(a[0], b[0]); c != 0 {
			return c
		}
		return cmpFloat(a[1], b[1])
	})
	pts = slices.Compact(pts)
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
