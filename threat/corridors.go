package threat

import (
	"cmp"
	"math"
	"slices"

	"github.com/sety-io/sety/geo"
)

// A route's corridors are weighed together, in one sweep over the grid:
// every populated cell near the route is read once — its window's bounds
// found once — and tested against each corridor that may reach it, rather
// than once per corridor. Adjacent corridors overlap (each reaches half
// its length and the buffer past its middle), so most cells near a route
// are shared by two or three of them, and by many on a route with many
// short legs.
//
// Each corridor still decides for itself exactly as a lone query does
// (gather with corridor.classify and corridor.contains), on the same flat
// frame with the same bands and the same exact test within them: cells
// wholly inside answer from their running totals, cells across the edge
// incident by incident. Only the arithmetic is arranged for the sweep — a
// cell's corner is put on each corridor's frame once, and a record is its
// offset from there — which moves a flat distance by far less than the
// band (2 m + 1 % of a corridor) that sends a record to the exact test.

// lane is a corridor as the sweep tests it: its bounds as rows and
// columns, and its flat frame ready for squared distances.
type lane struct {
	c              *corridor
	seg            int   // the corridor's index: where its tally goes
	y0, y1         int32 // rows it may touch
	x0, x1         int32 // columns it may touch, of one longitude span
	midLng, midLat float64
	kx             float64 // metres per degree of longitude on its frame
	ax, ay, dx, dy float64 // its segment on the frame: from a, by d
	invLen2        float64 // 1/|d|², 0 for a point
	cellIn2        float64 // a cell whose centre is within √cellIn2 is wholly inside; −1: none
	cellOut2       float64 // beyond √cellOut2 wholly outside
	// Near a pole, where tests are exact: the middle's unit vector, and
	// the cosine beyond whose angle from it a cell's centre is surely
	// outside (farther than the reach and a cell's half-diagonal).
	um   vec
	near float64
}

func newLane(g grid, c *corridor, seg int, y0, y1, x0, x1 int32) lane {
	l := lane{c: c, seg: seg, y0: y0, y1: y1, x0: x0, x1: x1, midLng: c.mid.Lng(), midLat: c.mid.Lat(),
		kx: metersPerDegree * c.cos, ax: c.ax, ay: c.ay, dx: c.bx - c.ax, dy: c.by - c.ay}
	if n := l.dx*l.dx + l.dy*l.dy; n > 0 {
		l.invLen2 = 1 / n
	}
	// As corridor.classify, squared: wholly inside when d + h ≤ buffer,
	// wholly outside when d − h > buffer.
	h := g.halfDiagonal() + c.band
	l.cellIn2 = -1
	if in := c.buffer - h; in >= 0 {
		l.cellIn2 = in * in
	}
	l.cellOut2 = (c.buffer + h) * (c.buffer + h)
	if c.exact {
		// Every point of the arc is within the reach (less the buffer) of
		// its middle; a metre to spare for rounding.
		l.um = unit(c.mid)
		l.near = math.Cos(math.Min(math.Pi, (c.reach+g.halfDiagonal()+1)/geo.EarthRadiusMeters))
	}
	return l
}

// dist2 is the squared flat distance from (px, py) on the lane's frame to
// its segment (as corridor.flatDist2).
func (l *lane) dist2(px, py float64) float64 {
	vx, vy := px-l.ax, py-l.ay
	t := (vx*l.dx + vy*l.dy) * l.invLen2
	if t < 0 {
		t = 0
	} else if t > 1 {
		t = 1
	}
	ex, ey := vx-t*l.dx, vy-t*l.dy
	return ex*ex + ey*ey
}

// segmentTally is what one corridor holds in a window.
type segmentTally struct {
	w float64 // decayed severity weight
	n int     // incidents
}

// sweep is one weighing of a route's corridors.
type sweep struct {
	e      *Engine
	w      *window
	lanes  []lane
	detail bool
	out    []segmentTally
	hours  *[24]int
	hits   []hit // of the cell at hand
	// The unit vectors of the cell at hand's records in the window, for
	// exact tests, each worked out once whatever the lanes that need it.
	unitsOf *cell
	units   []vec
	known   []bool
}

// hit is a lane that reaches the cell at hand: wholly, or across its edge
// with the cell's south-west corner at (bx, by) on the lane's frame.
type hit struct {
	l      *lane
	all    bool
	bx, by float64
}

// weighCorridors adds up the window's records within each corridor into
// out (one per corridor) and, with detail, their UTC hours into hours (a
// record in two corridors counts in both); callers hold e.mu.
func (e *Engine) weighCorridors(w *window, cs []corridor, detail bool, out []segmentTally, hours *[24]int) {
	s := &sweep{e: e, w: w, detail: detail, out: out, hours: hours, lanes: make([]lane, 0, len(cs)+2)}
	for k := range cs {
		c := &cs[k]
		minLat, maxLat, spans := c.bounds()
		for _, sp := range spans { // two across the antimeridian
			s.lanes = append(s.lanes, newLane(e.g, c, k, e.g.row(minLat), e.g.row(maxLat), e.g.col(sp[0]), e.g.col(sp[1])))
		}
	}
	lanes := s.lanes
	order := make([]int32, len(lanes)) // lanes by first row
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(lanes[a].y0, lanes[b].y0) })

	// Row by row, the lanes that reach the row (kept in column order), and
	// along the row the cells under some lane.
	var inRow, live []int32
	started := 0
	rowEnd := int32(math.MaxInt32) // no lane in inRow ends before it
	for y := int32(0); started < len(order) || len(inRow) > 0; y++ {
		if len(inRow) == 0 {
			y = lanes[order[started]].y0
		}
		if y > rowEnd {
			inRow = slices.DeleteFunc(inRow, func(i int32) bool { return lanes[i].y1 < y })
			rowEnd = math.MaxInt32
			for _, i := range inRow {
				rowEnd = min(rowEnd, lanes[i].y1)
			}
		}
		for ; started < len(order) && lanes[order[started]].y0 <= y; started++ {
			i := order[started]
			at, _ := slices.BinarySearchFunc(inRow, lanes[i].x0, func(j int32, x int32) int { return cmp.Compare(lanes[j].x0, x) })
			inRow = slices.Insert(inRow, at, i)
			rowEnd = min(rowEnd, lanes[i].y1)
		}
		r := e.rows[y]
		if r == nil || len(inRow) == 0 {
			continue
		}
		live = live[:0]
		liveEnd := int32(math.MaxInt32) // no lane in live ends before it
		next := 0
		for i := searchX(r.xs, lanes[inRow[0]].x0); i < len(r.xs); {
			x := r.xs[i]
			if x > liveEnd {
				live = slices.DeleteFunc(live, func(j int32) bool { return lanes[j].x1 < x })
				liveEnd = math.MaxInt32
				for _, j := range live {
					liveEnd = min(liveEnd, lanes[j].x1)
				}
			}
			for ; next < len(inRow) && lanes[inRow[next]].x0 <= x; next++ {
				if lanes[inRow[next]].x1 >= x {
					live = append(live, inRow[next])
					liveEnd = min(liveEnd, lanes[inRow[next]].x1)
				}
			}
			if len(live) == 0 {
				if next == len(inRow) {
					break
				}
				i += searchX(r.xs[i:], lanes[inRow[next]].x0) // at least 1: that lane starts past x
				continue
			}
			s.cell(&r.cells[i], live)
			i++
		}
	}
}

// cell adds the window's records of c to the corridor of each live lane
// that holds them.
func (s *sweep) cell(c *cell, live []int32) {
	g, w := s.e.g, s.w
	lng0, lat0 := float64(c.x)*g.deg, float64(c.y)*g.deg
	half := g.deg / 2
	i, j := -1, -1 // the window's records, found when first needed
	var centre vec // the cell centre's unit vector, for exact tests
	hits := s.hits[:0]
	for _, li := range live {
		h := hit{l: &s.lanes[li]}
		if h.l.c.exact {
			// An exact test is dear: first the window (an empty cell needs
			// none, as in gather), then a dot product, then the test.
			if i < 0 {
				if i, j = w.span(c); i == j {
					return
				}
				centre = unit(g.center(keyOf(c.x, c.y)))
			}
			if centre.dot(h.l.um) < h.l.near {
				continue
			}
			switch classifyBy(g, h.l.c.s.dist(centre), h.l.c.buffer) { // as corridor.classify
			case -1:
				continue
			case 1:
				h.all = true
			}
		} else {
			h.bx, h.by = wrapLng(lng0-h.l.midLng)*h.l.kx, (lat0-h.l.midLat)*metersPerDegree
			switch d2 := h.l.dist2(h.bx+half*h.l.kx, h.by+half*metersPerDegree); {
			case d2 > h.l.cellOut2:
				continue
			case d2 <= h.l.cellIn2:
				h.all = true
			}
		}
		hits = append(hits, h)
	}
	s.hits = hits
	if len(hits) == 0 {
		return
	}
	if i < 0 {
		if i, j = w.span(c); i == j {
			return
		}
	}
	for _, h := range hits {
		l, t := h.l, &s.out[h.l.seg]
		if h.all && !s.detail && !w.hasFilter {
			sum, n := w.sum(c, i, j)
			t.w += sum
			t.n += n
			continue
		}
		for k := i; k < j; k++ {
			r := &c.recs[k]
			if !w.catMask[r.cat] {
				continue
			}
			if !h.all {
				in := false
				if !l.c.exact {
					d2 := l.dist2(h.bx+float64(r.dLng)*l.kx, h.by+float64(r.dLat)*metersPerDegree)
					if d2 > l.c.out2 {
						continue
					}
					in = d2 <= l.c.in2
				}
				// Within the band, or near a pole: the exact distance.
				if !in && l.c.s.dist(s.unitOf(c, i, j, k)) > l.c.buffer {
					continue
				}
			}
			t.w += w.weightOf(c, k)
			t.n++
			if s.detail {
				s.hours[hourOf(r)]++
			}
		}
	}
}

// unitOf is the unit vector of record k of c, one of the window's records
// i..j, as corridor.contains works it out.
func (s *sweep) unitOf(c *cell, i, j, k int) vec {
	if s.unitsOf != c {
		s.unitsOf = c
		s.units = slices.Grow(s.units[:0], j-i)[:j-i]
		s.known = slices.Grow(s.known[:0], j-i)[:j-i]
		clear(s.known)
	}
	if !s.known[k-i] {
		lng, lat := s.e.g.point(c, &c.recs[k])
		s.units[k-i], s.known[k-i] = unit(geo.Point{lng, lat}), true
	}
	return s.units[k-i]
}
