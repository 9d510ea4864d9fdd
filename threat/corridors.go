package threat

import (
	"math"
	"slices"
	"sync"

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
// band (see recordBand) that sends a record to the exact test.
// The exact test (arc.within) compares the sine or squared chord of the
// buffer's angle instead of the arcsine of the distance, and hands the
// few records within a billionth of the limit to arc.dist itself, so it
// decides as corridor.contains does. A corridor passes over a cell none
// of whose points is within its flat test's outer bound; it would have
// counted none of its records.

// lane is a corridor as the sweep tests it: its bounds as rows and
// columns, and its flat frame ready for squared distances.
type lane struct {
	// What the sweep reads of every lane at every cell comes first, and
	// what a record's test reads of its corridor is copied here: a
	// router's route has hundreds of corridors, eight or so across each
	// cell, and reading each corridor for them missed the cache.
	y0, y1         int32 // rows it may touch
	x0, x1         int32 // columns it may touch, of one longitude span
	seg            int   // the corridor's index: where its tally goes
	midLng, midLat float64
	kx             float64 // metres per degree of longitude on its frame
	ax, ay         float64 // its segment on the frame: from a, by d
	flatSeg
	cellIn2   float64 // a cell whose centre is within √cellIn2 is wholly inside; −1: none
	cellOut2  float64 // beyond √cellOut2 wholly outside
	in2, out2 float64 // the corridor's record bounds (corridor.in2, out2)
	exact     bool    // the corridor's
	// A cell whose rectangle on the frame is farther than √rectOut2 from
	// the segment's bounding box holds no record within the flat test's
	// outer bound (a metre to spare for the records' float32 offsets and
	// rounding).
	rectOut2 float64
	// The segment's bounding box on the frame.
	sx0, sy0, sx1, sy1 float64
	c                  *corridor
	lim                reachLimit // the exact test's
	// Near a pole, where tests are exact: the middle's unit vector, and
	// the cosine beyond whose angle from it a cell's centre is surely
	// outside (farther than the reach and a cell's half-diagonal).
	um   vec
	near float64
}

func newLane(g grid, c *corridor, lim reachLimit, seg int, y0, y1, x0, x1 int32) lane {
	l := lane{c: c, seg: seg, y0: y0, y1: y1, x0: x0, x1: x1, midLng: c.mid.Lng(), midLat: c.mid.Lat(),
		kx: metersPerDegree * c.cos, ax: c.ax, ay: c.ay, flatSeg: flatSeg{dx: c.bx - c.ax, dy: c.by - c.ay}, lim: lim,
		in2: c.in2, out2: c.out2, exact: c.exact}
	l.sx0, l.sx1 = min(l.ax, l.ax+l.dx), max(l.ax, l.ax+l.dx)
	l.sy0, l.sy1 = min(l.ay, l.ay+l.dy), max(l.ay, l.ay+l.dy)
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
	rectOut := math.Sqrt(c.out2) + 1
	l.rectOut2 = rectOut * rectOut
	if c.exact {
		// Every point of the arc is within the reach (less the buffer) of
		// its middle; a metre to spare for rounding.
		l.um = unit(c.mid)
		l.near = math.Cos(math.Min(math.Pi, (c.reach+g.halfDiagonal()+1)/geo.EarthRadiusMeters))
	}
	return l
}

// flat places cell (x, y) on the lane's frame: its south-west corner
// (bx, by) and the squared distance d2 from its centre to the segment
// (wholly inside when d2 ≤ cellIn2), and out when it holds no record
// within the flat test's outer bound: its centre is beyond cellOut2, or
// past the band and all its rectangle too. For a lane that is not exact.
func (l *lane) flat(g grid, x, y int32) (bx, by, d2 float64, out bool) {
	half := g.deg / 2
	bx, by = wrapLng(float64(x)*g.deg-l.midLng)*l.kx, (float64(y)*g.deg-l.midLat)*metersPerDegree
	d2 = l.dist2(bx+half*l.kx, by+half*metersPerDegree)
	// cellIn2 < out2, so a cell wholly inside is never out.
	out = d2 > l.cellOut2 || d2 > l.out2 && l.rectDist2(bx, by, bx+g.deg*l.kx, by+g.deg*metersPerDegree) > l.rectOut2
	return bx, by, d2, out
}

// dist2 is the squared flat distance from (px, py) on the lane's frame to
// its segment (as corridor.flatDist2).
func (l *lane) dist2(px, py float64) float64 { return l.dist2From(px-l.ax, py-l.ay) }

// flatSeg is a segment on a flat frame as seen from its start.
type flatSeg struct {
	dx, dy  float64 // to its end
	invLen2 float64 // 1/|d|², 0 for a point
}

// dist2From is the squared distance to the segment of the point (vx, vy)
// from its start.
func (f *flatSeg) dist2From(vx, vy float64) float64 {
	// Clamped without branches: whether a record's foot falls before,
	// on or past the segment is a coin toss the processor mispredicts.
	t := min(max((vx*f.dx+vy*f.dy)*f.invLen2, 0), 1)
	ex, ey := vx-t*f.dx, vy-t*f.dy
	return ex*ex + ey*ey
}

// rectDist2 is a lower bound of the squared distance on the lane's frame
// from its segment to the rectangle [x0, x1] × [y0, y1]: the distance
// between the rectangle and the segment's bounding box (exact for a
// segment along a row or column; a router's segments of tens of metres
// are nearly points at a cell's scale).
func (l *lane) rectDist2(x0, y0, x1, y1 float64) float64 {
	ex := max(x0-l.sx1, 0, l.sx0-x1)
	ey := max(y0-l.sy1, 0, l.sy0-y1)
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
	pts    []point
	us     []vec

	keys               []uint64
	order, inRow, live []int32 // scratch of weighCorridors
	lives              []reach
	visits             []visit
	touched            uint32 // what touch's reads add up to
}

// sweeps keeps the memory of finished sweeps for the next: a router's
// route of 500 points has as many lanes, tens of kilobytes that fresh
// allocations would zero and the collector chase every time.
var sweeps = sync.Pool{New: func() any { return new(sweep) }}

// hit is a lane that reaches the cell at hand: wholly, or across its edge
// with the cell's south-west corner at (ox, oy) from the segment's start.
// A hit's records are tested one after another with the lane's figures
// read once, so the hit holds only what differs from cell to cell.
type hit struct {
	l      *lane
	all    bool
	ox, oy float64 // the corner from the segment's start
}

// point is a record of the cell at hand as a hit's test reads it: its
// offsets in the cell, its weight in the window, and its index.
type point struct {
	fx, fy, w float64
	k         int32
}

// b2i is 1 for true and 0 for false, and b2f the same as a float: the
// compiler makes both without a branch.
func b2i(b bool) int {
	n := 0
	if b {
		n = 1
	}
	return n
}

func b2f(b bool) float64 { return float64(b2i(b)) }

// weighCorridors adds up the window's records within each corridor into
// out (one per corridor) and, with detail, their UTC hours into hours (a
// record in two corridors counts in both); callers hold e.mu.
func (e *Engine) weighCorridors(w *window, cs []corridor, detail bool, out []segmentTally, hours *[24]int) {
	s := sweeps.Get().(*sweep)
	s.e, s.w, s.detail, s.out, s.hours = e, w, detail, out, hours
	s.lanes = slices.Grow(s.lanes[:0], len(cs)+2)
	var lim reachLimit
	for k := range cs {
		c := &cs[k]
		if k == 0 || c.buffer != lim.r { // a route's corridors share one buffer
			lim = newReachLimit(c.buffer)
		}
		minLat, maxLat, spans := c.bounds()
		for _, sp := range spans { // two across the antimeridian
			s.lanes = append(s.lanes, newLane(e.g, c, lim, k, e.g.row(minLat), e.g.row(maxLat), e.g.col(sp[0]), e.g.col(sp[1])))
		}
	}
	lanes := s.lanes
	// The lanes by first row: their rows and indices packed in one word
	// each (the row's sign flipped so words order as rows do), sorted as
	// plain integers.
	keys := slices.Grow(s.keys[:0], len(lanes))
	for i := range lanes {
		keys = append(keys, uint64(uint32(lanes[i].y0)^1<<31)<<32|uint64(i))
	}
	slices.Sort(keys)
	order := slices.Grow(s.order[:0], len(lanes))[:len(lanes)]
	for i, k := range keys {
		order[i] = int32(uint32(k))
	}

	// Row by row, the lanes that reach the row (kept in column order), and
	// along the row the cells under some lane.
	// The cells are listed first, then weighed (see touch).
	inRow, live, visits, lives := s.inRow[:0], s.live[:0], s.visits[:0], s.lives[:0]
	defer func() {
		s.keys, s.order, s.inRow, s.live, s.visits, s.lives = keys, order, inRow, live, visits, lives
		s.e, s.w, s.out, s.hours = nil, nil, nil, nil
		sweeps.Put(s)
	}()
	started := 0
	rowEnd := int32(math.MaxInt32) // no lane in inRow ends before it
	for y := int32(0); started < len(order) || len(inRow) > 0; y++ {
		if len(inRow) == 0 {
			y = lanes[order[started]].y0
		}
		if y > rowEnd {
			kept := inRow[:0]
			rowEnd = math.MaxInt32
			for _, i := range inRow {
				if y1 := lanes[i].y1; y1 >= y {
					kept = append(kept, i)
					rowEnd = min(rowEnd, y1)
				}
			}
			inRow = kept
		}
		for ; started < len(order) && lanes[order[started]].y0 <= y; started++ {
			i := order[started]
			// After the lanes of inRow that start west of it.
			x0, at, hi := lanes[i].x0, 0, len(inRow)
			for at < hi {
				if m := int(uint(at+hi) >> 1); lanes[inRow[m]].x0 < x0 {
					at = m + 1
				} else {
					hi = m
				}
			}
			inRow = slices.Insert(inRow, at, i)
			rowEnd = min(rowEnd, lanes[i].y1)
		}
		r := e.rows.at(y)
		if r == nil || len(inRow) == 0 {
			continue
		}
		live = live[:0]
		liveEnd := int32(math.MaxInt32) // no lane in live ends before it
		next := 0
		for i := searchX(r.xs, lanes[inRow[0]].x0); i < len(r.xs); {
			x := r.xs[i]
			if x > liveEnd {
				kept := live[:0]
				liveEnd = math.MaxInt32
				for _, j := range live {
					if x1 := lanes[j].x1; x1 >= x {
						kept = append(kept, j)
						liveEnd = min(liveEnd, x1)
					}
				}
				live = kept
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
			// Only the lanes that may hold some record of the cell, and
			// the cell only when there is one: their records are the
			// sweep's dearest reads, and a lane's rows and columns cover
			// its corridor's bounding box, so a diagonal leg's span holds
			// cells wholly beyond its buffer (about half of a 30 km
			// route's, and of their records). The lanes passed over here
			// are those cell would pass over (see lane.flat); what the
			// others' flat tests found is kept for cell.
			l0 := len(lives)
			for _, j := range live {
				l := &lanes[j]
				if l.exact {
					lives = append(lives, reach{l: j})
					continue
				}
				if bx, by, d2, out := l.flat(e.g, x, y); !out {
					lives = append(lives, reach{l: j, d2: d2, ox: bx - l.ax, oy: by - l.ay})
				}
			}
			if len(lives) > l0 {
				visits = append(visits, visit{c: &r.cells[i], x: x, y: y, l0: int32(l0)})
			}
			i++
		}
	}
	s.touch(visits)
	for k, v := range visits {
		if v.i == v.j {
			continue // no record in the window: no lane would add any
		}
		end := len(lives)
		if k+1 < len(visits) {
			end = int(visits[k+1].l0)
		}
		s.cell(v.c, v.x, v.y, int(v.i), int(v.j), lives[v.l0:end])
	}
}

// reach is a lane live at a listed cell, with what its flat test found
// there (see lane.flat), kept for weighing the cell: the cell's
// south-west corner from the segment's start and the squared distance
// from its centre to the segment. An exact lane's is tested when weighed.
type reach struct {
	l          int32
	d2, ox, oy float64
}

// visit is a cell some lane reaches, its column and row, the lanes live
// there (lives[l0:] up to the next visit's l0) and its records in the
// window (recs[i:j], found by touch).
type visit struct {
	c              *cell
	x, y, l0, i, j int32
}

// touch finds the window's records of every visited cell and reads them
// before any cell is weighed, so that weighing finds them in the cache. A
// route's cells have usually been taken out of the caches by other work
// since the last query, and a cell's reads wait on one another (its
// bounds, then its records); weighed one by one, the cells' misses came
// one after another. Here no read waits on a read of another cell, so
// the processor overlaps the misses of many cells.
//
// The cells' bounds are all found first, then their records read: a
// cell's records wait on its bounds, and a loop that did both for one
// cell after another left the processor few reads of other cells to
// start while it waited.
func (s *sweep) touch(visits []visit) {
	for k := range visits {
		v := &visits[k]
		i, j := s.w.span(v.c)
		v.i, v.j = int32(i), int32(j)
	}
	var sum uint32
	for k := range visits {
		v := &visits[k]
		if i, j := int(v.i), int(v.j); i < j {
			recs := v.c.recs
			for r := i; r < j; r += 2 { // 48 bytes apart: every line of them
				sum += recs[r].t
			}
			sum += recs[j-1].t
		}
	}
	s.touched += sum // kept, so the reads are made
}

// cell adds the window's records of c to the corridor of each live lane
// that holds them.
//
// Lanes that hold the whole cell take its running totals; the others test
// its records. A record is read, its weight worked out and (for an exact
// test) put on the sphere once whatever the lanes; then each lane tests
// them all in turn. Each corridor still adds its records in the cell's
// order, so its sums are the same to the bit.
//
// Its window's records are c.recs[i:j], at least one.
func (s *sweep) cell(c *cell, x, y int32, i, j int, live []reach) {
	g, w := s.e.g, s.w
	var centre vec // the cell centre's unit vector, for exact tests
	haveCentre := false
	hits := s.hits[:0]
	for _, lr := range live {
		l := &s.lanes[lr.l]
		all := false
		var ox, oy float64
		if l.exact {
			// An exact test is dear: first a dot product, then the test
			// (an empty cell, as in gather, was passed over before).
			if !haveCentre {
				centre, haveCentre = unit(g.center(keyOf(x, y))), true
			}
			if centre.dot(l.um) < l.near {
				continue
			}
			switch classifyBy(g, l.c.s.dist(centre), l.c.buffer) { // as corridor.classify
			case -1:
				continue
			case 1:
				all = true
			}
		} else {
			// Listed only where its flat test does not pass over the cell.
			all = lr.d2 <= l.cellIn2
			ox, oy = lr.ox, lr.oy
		}
		if all && !s.detail && !w.hasFilter {
			// Wholly inside: from the cell's totals.
			sum, n := w.sum(c, i, j)
			t := &s.out[l.seg]
			t.w += sum
			t.n += n
			continue
		}
		hits = append(hits, hit{l: l, all: all, ox: ox, oy: oy})
	}
	s.hits = hits
	if len(hits) == 0 {
		return
	}
	// The records once, in the cell's order: their offsets and weights
	// side by side. Each hit then streams through them with its own
	// figures and sums in registers (a hot spot's cell holds hundreds).
	pts := s.pts[:0]
	for k := i; k < j; k++ {
		if r := &c.recs[k]; w.catMask[r.cat] {
			pts = append(pts, point{fx: float64(r.dLng), fy: float64(r.dLat), w: w.weightOf(c, k), k: int32(k)})
		}
	}
	s.pts = pts
	us := s.us[:0] // the records on the sphere, for exact tests, when first needed
	onSphere := func(pk int) vec {
		if len(us) == 0 {
			us = slices.Grow(us, len(pts))[:len(pts)]
			for uk := range us {
				us[uk][0] = 2 // not yet: no unit vector has it
			}
		}
		if us[pk][0] == 2 {
			lng, lat := g.point(c, &c.recs[pts[pk].k])
			us[pk] = unit(geo.Point{lng, lat})
		}
		return us[pk]
	}
	for hk := range hits {
		h := &hits[hk]
		l := h.l
		all, exact, ox, oy, kx, fs, in2, out2 := h.all, l.exact, h.ox, h.oy, l.kx, l.flatSeg, l.in2, l.out2
		t := &s.out[l.seg]
		sw, sn := t.w, t.n
		for pk := range pts {
			p := &pts[pk]
			in := all
			if !in {
				if exact { // near a pole, every test is exact
					in = l.c.s.within(onSphere(pk), &l.lim)
				} else {
					d2 := fs.dist2From(ox+p.fx*kx, oy+p.fy*metersPerDegree)
					in = d2 <= in2
					// Within the band, rarely: the exact distance.
					if b2i(!in)&b2i(d2 <= out2) != 0 {
						in = l.c.s.within(onSphere(pk), &l.lim)
					}
				}
			}
			// Without branches: whether a record is in a corridor is a
			// coin toss. Adding 0 leaves a sum's bits as they were.
			sw += p.w * b2f(in)
			sn += b2i(in)
			if s.detail && in {
				s.hours[hourOf(&c.recs[p.k])]++
			}
		}
		t.w, t.n = sw, sn
	}
	s.us = us
}
