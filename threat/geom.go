package threat

import (
	"math"

	"github.com/sety-io/sety/geo"
)

// The geometry of queries on the sphere: which cells a region may touch
// (across the antimeridian and near the poles), whether a cell lies wholly
// inside or outside it, and whether a point lies in it. Point tests run on
// a local flat approximation and fall back to the exact spherical distance
// within a band around the edge, so they decide exactly as the exact
// distance does.

const degToRad = math.Pi / 180

// vec is a point on the unit sphere.
type vec [3]float64

func unit(p geo.Point) vec {
	// Sincos gives Sin's and Cos's very bits, in one reduction.
	sinLat, cosLat := math.Sincos(p.Lat() * degToRad)
	sinLng, cosLng := math.Sincos(p.Lng() * degToRad)
	return vec{cosLat * cosLng, cosLat * sinLng, sinLat}
}

func (a vec) dot(b vec) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func (a vec) cross(b vec) vec {
	return vec{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func (a vec) scale(f float64) vec { return vec{a[0] * f, a[1] * f, a[2] * f} }
func (a vec) sub(b vec) vec       { return vec{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec) add(b vec) vec       { return vec{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec) norm() float64       { return math.Sqrt(a.dot(a)) }

func (a vec) point() geo.Point {
	lat := math.Atan2(a[2], math.Hypot(a[0], a[1])) / degToRad
	lng := math.Atan2(a[1], a[0]) / degToRad
	return geo.Point{lng, lat}
}

// chordAngle is the great-circle angle between unit vectors a and b.
func chordAngle(a, b vec) float64 { return 2 * math.Asin(math.Min(1, a.sub(b).norm()/2)) }

// slerp gives the points along the great circle from a to b, its angle
// and the angle's sine worked out once.
type slerp struct {
	a, b vec
	o, s float64
}

func newSlerp(a, b vec) slerp {
	o := chordAngle(a, b)
	return slerp{a: a, b: b, o: o, s: math.Sin(o)}
}

// at is the point a fraction f along the way.
func (g *slerp) at(f float64) vec {
	if g.o < 1e-12 {
		return g.a
	}
	p := g.a.scale(math.Sin((1-f)*g.o) / g.s)
	q := g.b.scale(math.Sin(f*g.o) / g.s)
	v := vec{p[0] + q[0], p[1] + q[1], p[2] + q[2]}
	return v.scale(1 / v.norm())
}

// arc is a great-circle segment with what its distance test needs.
type arc struct {
	a, b   vec
	n      vec  // unit normal of its great circle
	degen  bool // a and b (nearly) coincide
	pa, pb geo.Point
}

// newArc is the arc from pa to pb, whose unit vectors are a and b.
func newArc(pa, pb geo.Point, a, b vec) arc {
	var s arc
	s.set(pa, pb, a, b)
	return s
}

// set makes s the arc from pa to pb in place (a route sets hundreds).
func (s *arc) set(pa, pb geo.Point, a, b vec) {
	s.a, s.b, s.pa, s.pb = a, b, pa, pb
	n := a.cross(b)
	if l := n.norm(); l > 1e-15 {
		s.n, s.degen = n.scale(1/l), false
	} else {
		s.n, s.degen = vec{}, true
	}
}

// dist is the great-circle distance in metres from p to the nearest point
// of the arc: across to its great circle where p's foot falls between the
// ends, else to the nearer end.
func (s *arc) dist(p vec) float64 {
	if x, across := s.across(p); across {
		return geo.EarthRadiusMeters * math.Asin(math.Min(1, math.Abs(x)))
	}
	return geo.EarthRadiusMeters * math.Min(chordAngle(p, s.a), chordAngle(p, s.b))
}

// across is p's offset x from the arc's great circle (the sine of its
// angle from it) and whether p's foot on that circle falls between the
// ends, so that the distance is across to the circle; dist and within
// share it, so they choose alike.
func (s *arc) across(p vec) (x float64, ok bool) {
	if s.degen {
		return 0, false
	}
	x = p.dot(s.n)
	foot := p.sub(s.n.scale(x))
	return x, s.a.cross(foot).dot(s.n) >= 0 && foot.cross(s.b).dot(s.n) >= 0
}

// reachLimit is what within needs to decide dist(p) ≤ r without an
// arcsine: the sine of r's angle (across to the great circle) and the
// squared chord of it (to an end), each as bounds a hair below and above
// (a billionth, where the arithmetic errs by about 10⁻¹⁶), between which
// dist itself decides.
type reachLimit struct {
	r                   float64
	sinIn, sinOut       float64
	chord2In, chord2Out float64
}

func newReachLimit(r float64) reachLimit {
	const hair = 1e-9
	a := r / geo.EarthRadiusMeters
	if !(a < math.Pi/2) { // past a quarter of the globe the sine turns: dist decides
		return reachLimit{r: r, sinIn: -1, sinOut: math.Inf(1), chord2In: -1, chord2Out: math.Inf(1)}
	}
	sin := math.Sin(a)
	chord := 2 * math.Sin(a/2)
	return reachLimit{r: r, sinIn: sin * (1 - hair), sinOut: sin * (1 + hair),
		chord2In: chord * chord * (1 - hair), chord2Out: chord * chord * (1 + hair)}
}

// within reports whether dist(p) ≤ lim.r, exactly as comparing dist
// would: the sine and the squared chord grow with the angle, so away
// from the limit they decide alike, and within a hair of it dist does.
func (s *arc) within(p vec, lim *reachLimit) bool {
	if x, across := s.across(p); across {
		switch x = math.Abs(x); {
		case x < lim.sinIn:
			return true
		case x > lim.sinOut:
			return false
		}
		return s.dist(p) <= lim.r
	}
	da, db := p.sub(s.a), p.sub(s.b)
	switch c2 := math.Min(da.dot(da), db.dot(db)); {
	case c2 < lim.chord2In:
		return true
	case c2 > lim.chord2Out:
		return false
	}
	return s.dist(p) <= lim.r
}

// lngRanges is at most two longitude intervals within [−180, 180], held
// by value: a route's corridors each keep theirs without an allocation.
type lngRanges struct {
	r [2][2]float64
	n int
}

// all is the intervals, in the memory of l.
func (l *lngRanges) all() [][2]float64 { return l.r[:l.n] }

// lngSpans splits the longitudes [lo, hi] (which may run past ±180) into
// at most two intervals within [−180, 180].
func lngSpans(lo, hi float64) lngRanges {
	switch {
	case hi-lo >= 360:
		return lngRanges{r: [2][2]float64{{-180, 180}}, n: 1}
	case lo < -180:
		return lngRanges{r: [2][2]float64{{lo + 360, 180}, {-180, hi}}, n: 2}
	case hi > 180:
		return lngRanges{r: [2][2]float64{{lo, 180}, {-180, hi - 360}}, n: 2}
	}
	return lngRanges{r: [2][2]float64{{lo, hi}}, n: 1}
}

// wrapLng brings a longitude difference into [−180, 180).
func wrapLng(d float64) float64 {
	if d >= 180 || d < -180 {
		d = math.Mod(d+180, 360)
		if d < 0 {
			d += 360
		}
		d -= 180
	}
	return d
}

// around is the box of points within reach metres of the box
// [minLng..maxLng (unwrapped)] × [minLat..maxLat]: its rows and its
// longitude intervals.
func around(minLng, minLat, maxLng, maxLat, reach float64) (float64, float64, lngRanges) {
	whole := lngRanges{r: [2][2]float64{{-180, 180}}, n: 1}
	dLat := reach / metersPerDegree
	lat0, lat1 := minLat-dLat, maxLat+dLat
	if lat0 <= -90 || lat1 >= 90 {
		return math.Max(lat0, -90), math.Min(lat1, 90), whole
	}
	cos := math.Min(math.Cos(lat0*degToRad), math.Cos(lat1*degToRad))
	dLng := dLat / cos
	if dLng >= 180 {
		return lat0, lat1, whole
	}
	return lat0, lat1, lngSpans(minLng-dLng, maxLng+dLng)
}

// cellsIn calls fn with every populated cell in the rows from minLat to
// maxLat and the columns of the longitude intervals; callers hold e.mu.
func (e *Engine) cellsIn(minLat, maxLat float64, spans [][2]float64, fn func(c *cell)) {
	y0, y1 := e.g.row(minLat), e.g.row(maxLat)
	first, last := e.rows.span()
	for y := max(y0, first); y <= min(y1, last); y++ {
		if r := e.rows.at(y); r != nil {
			e.rowCells(r, spans, fn)
		}
	}
}

func (e *Engine) rowCells(r *row, spans [][2]float64, fn func(c *cell)) {
	for _, s := range spans {
		x0, x1 := e.g.col(s[0]), e.g.col(s[1])
		i := searchX(r.xs, x0)
		for ; i < len(r.xs) && r.xs[i] <= x1; i++ {
			fn(&r.cells[i])
		}
	}
}

// searchX returns the first index of xs (ascending, without repeats, as a
// row's columns are) whose column is at or past x.
//
// Distinct whole numbers climb by at least one a step, so xs[i] ≥
// xs[0] + i and xs[i] ≤ xs[n−1] − (n−1−i): the answer lies within x −
// xs[0] of the start and xs[n−1] − x of the end, and the search halves
// only that stretch. In a row populated column after column the stretch
// is one index, found from the row's first and last columns, two reads
// that do not wait on each other; a plain binary search's reads each
// waited on the one before, a cache miss apiece on a cold row (a route's
// sweep and study search every row they cross).
func searchX(xs []int32, x int32) int {
	n := len(xs)
	if n == 0 || x <= xs[0] {
		return 0
	}
	first, last := int64(xs[0]), int64(xs[n-1])
	if int64(x) > last {
		return n
	}
	// xs[0] < x ≤ xs[n−1]: the answer is in lo … hi, and xs[hi] ≥ x.
	lo := int(max(1, int64(n-1)-(last-int64(x))))
	hi := int(min(int64(n-1), int64(x)-first))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if xs[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// region is a query's shape: which cells it may touch, whether a cell is
// wholly in or out, and whether a point is in.
type region interface {
	bounds() (minLat, maxLat float64, spans [][2]float64)
	// classify returns 1 for a cell wholly inside, −1 wholly outside, 0
	// across the edge.
	classify(g grid, c *cell) int
	contains(lng, lat float64) bool
}

// classifyBy classifies a cell from the distance d of its centre to a
// region of radius r around some shape.
func classifyBy(g grid, d, r float64) int {
	h := g.halfDiagonal()
	switch {
	case d+h <= r:
		return 1
	case d-h > r:
		return -1
	}
	return 0
}

// polar is the latitude beyond which point tests are always exact.
const polar = 70.0

// circle is the points within r metres (great-circle) of p.
type circle struct {
	p              geo.Point
	r              float64
	cos, sin       float64 // of p's latitude
	in2, out2      float64 // flat squared distances surely in, surely out
	band           float64 // how far the flat distance may be from the exact one
	exact          bool
	minLat, maxLat float64
	spans          lngRanges
}

func newCircle(p geo.Point, r float64) *circle {
	c := &circle{p: p, r: r, cos: math.Cos(p.Lat() * degToRad), sin: math.Sin(p.Lat() * degToRad)}
	band := 1 + 0.005*r
	c.band = band
	c.in2, c.out2 = math.Pow(math.Max(0, r-band), 2), math.Pow(r+band, 2)
	c.minLat, c.maxLat, c.spans = around(p.Lng(), p.Lat(), p.Lng(), p.Lat(), r+1)
	c.exact = math.Abs(p.Lat())+r/metersPerDegree > polar
	return c
}

func (c *circle) bounds() (float64, float64, [][2]float64) { return c.minLat, c.maxLat, c.spans.all() }

func (c *circle) classify(g grid, cl *cell) int {
	m := g.center(keyOf(cl.x, cl.y))
	if c.exact {
		return classifyBy(g, geo.Distance(c.p, m), c.r)
	}
	// The flat distance is within the band of the exact one.
	dLat := m.Lat() - c.p.Lat()
	cm := c.cos - c.sin*dLat*degToRad/2
	d := math.Hypot(wrapLng(m.Lng()-c.p.Lng())*metersPerDegree*cm, dLat*metersPerDegree)
	h := g.halfDiagonal() + c.band
	switch {
	case d+h <= c.r:
		return 1
	case d-h > c.r:
		return -1
	}
	return 0
}

func (c *circle) contains(lng, lat float64) bool {
	if !c.exact {
		dLat := lat - c.p.Lat()
		// cos of the mid latitude, to first order.
		cm := c.cos - c.sin*dLat*degToRad/2
		dx := wrapLng(lng-c.p.Lng()) * metersPerDegree * cm
		dy := dLat * metersPerDegree
		d2 := dx*dx + dy*dy
		if d2 <= c.in2 {
			return true
		}
		if d2 > c.out2 {
			return false
		}
	}
	return geo.Distance(c.p, geo.Point{lng, lat}) <= c.r
}

// corridor is the points within buffer metres of a great-circle segment.
type corridor struct {
	s              arc
	buffer         float64
	mid            geo.Point
	cos            float64
	ax, ay, bx, by float64 // the ends on a flat frame at mid, in metres
	in2, out2      float64 // flat squared distances of a point surely in, surely out (recordBand)
	band           float64 // of a cell's classification
	exact          bool
	reach          float64 // from the middle: every point within buffer of the arc is within it
	minLat, maxLat float64
	spans          lngRanges
}

func newCorridor(a, b geo.Point, buffer float64) *corridor {
	c := new(corridor)
	c.init(a, b, unit(a), unit(b), geo.Distance(a, b), buffer)
	return c
}

// init makes c the corridor of the segment from a to b, length metres
// long, whose unit vectors ua and ub a route has at hand (each point ends
// one segment and starts the next, and a route knows its legs' lengths).
//
// Neither the length nor the frame's middle need be exact: the band, and
// the reach's metre of slack, hold far more than the length's rounding
// and the 3.3 cm by which halfway in latitude and longitude can miss the
// arc's midpoint for a segment of 500 m below 80° (the arc bows
// poleward). Nearer the poles, the middle is the arc's own.
func (c *corridor) init(a, b geo.Point, ua, ub vec, length, buffer float64) {
	*c = corridor{buffer: buffer}
	c.s.set(a, b, ua, ub)
	if length <= maxSegmentM+1 && math.Max(math.Abs(a.Lat()), math.Abs(b.Lat())) < 80 {
		c.mid = geo.Point{wrapLng(a.Lng() + wrapLng(b.Lng()-a.Lng())/2), (a.Lat() + b.Lat()) / 2}
	} else if sum := ua.add(ub); sum.norm() > 0 {
		c.mid = sum.scale(1 / sum.norm()).point()
	} else {
		c.mid = a
	}
	sin, cos := math.Sincos(c.mid.Lat() * degToRad) // Cos's very bits
	c.cos = cos
	c.ax, c.ay = c.flat(a.Lng(), a.Lat())
	c.bx, c.by = c.flat(b.Lng(), b.Lat())
	c.band = 2 + 0.01*(buffer+length)
	band := recordBand(buffer, length)
	in, out := math.Max(0, buffer-band), buffer+band
	c.in2, c.out2 = in*in, out*out
	c.reach = length/2 + buffer + 1
	dLat := c.reach / metersPerDegree
	c.exact = math.Abs(c.mid.Lat())+dLat > polar
	if c.exact {
		c.minLat, c.maxLat, c.spans = around(c.mid.Lng(), c.mid.Lat(), c.mid.Lng(), c.mid.Lat(), c.reach)
		return
	}
	// As around, without two more cosines: the rows within the reach lie
	// below 70°, where the cosine of the farthest from the equator,
	// cos(|φ| + δ) = cos φ cos δ − |sin φ| sin δ, is at least
	// cos φ (1 − δ²/2) − |sin φ| δ. Its longitudes are those of that
	// bound: a hair wider than around's (the reach's metre of slack holds
	// the rounding).
	d := dLat * degToRad
	dLng := dLat / (cos*(1-d*d/2) - math.Abs(sin)*d)
	c.minLat, c.maxLat = c.mid.Lat()-dLat, c.mid.Lat()+dLat
	c.spans = lngSpans(c.mid.Lng()-dLng, c.mid.Lng()+dLng)
}

// recordBand is how far a corridor's flat distance to a point may be from
// the exact one when the point is within the band of its edge: for a
// corridor of buffer metres around a segment of length metres whose reach
// lies below 70° (else every test is exact). Cells are classified with
// the wider band, 2 m + 1 %, which also holds the distortion of a large
// cell around its centre.
//
// A route's segments (at most 500 m, plus a metre for rounding) take
// 0.5 m + 0.2 % of buffer + length. A point within buffer + band of the
// segment, and the segment's point nearest it, lie within r = length/2 +
// buffer + band ≤ 1,254 m of the frame's middle, so their latitudes differ
// from the frame's by at most r/R (R the earth's radius), and the frame's
// east–west scale from the one between them by a factor of at most
// tan 70° · r/R ≤ 5.5·10⁻⁴ (2.75 · 1,254 m / 6,371 km): the flat
// distance errs by less than 0.06 % of buffer + length. The segment's great circle bows from the
// frame's straight line by at most L² · tan 70° / (8R) ≤ 1.4 cm, the
// frame's middle misses the arc's by at most 3.3 cm (see init), and a
// record's float32 offsets by 25 µm: the band holds all of it three times
// over, and the exact test decides within it. Longer segments (tests
// build them) keep 2 m + 1 %.
func recordBand(buffer, length float64) float64 {
	if length <= maxSegmentM+1 {
		return 0.5 + 0.002*(buffer+length)
	}
	return 2 + 0.01*(buffer+length)
}

func (c *corridor) flat(lng, lat float64) (float64, float64) {
	return wrapLng(lng-c.mid.Lng()) * metersPerDegree * c.cos, (lat - c.mid.Lat()) * metersPerDegree
}

func (c *corridor) bounds() (float64, float64, [][2]float64) {
	return c.minLat, c.maxLat, c.spans.all()
}

func (c *corridor) classify(g grid, cl *cell) int {
	m := g.center(keyOf(cl.x, cl.y))
	if c.exact {
		return classifyBy(g, c.s.dist(unit(m)), c.buffer)
	}
	// The flat distance is within the band of the exact one.
	d := math.Sqrt(c.flatDist2(m.Lng(), m.Lat()))
	h := g.halfDiagonal() + c.band
	switch {
	case d+h <= c.buffer:
		return 1
	case d-h > c.buffer:
		return -1
	}
	return 0
}

// flatDist2 is the squared distance on the flat frame from a point to the
// segment.
func (c *corridor) flatDist2(lng, lat float64) float64 {
	px, py := c.flat(lng, lat)
	dx, dy := c.bx-c.ax, c.by-c.ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((px-c.ax)*dx+(py-c.ay)*dy)/l))
	}
	ex, ey := px-(c.ax+t*dx), py-(c.ay+t*dy)
	return ex*ex + ey*ey
}

func (c *corridor) contains(lng, lat float64) bool {
	if !c.exact {
		d2 := c.flatDist2(lng, lat)
		if d2 <= c.in2 {
			return true
		}
		if d2 > c.out2 {
			return false
		}
	}
	return c.s.dist(unit(geo.Point{lng, lat})) <= c.buffer
}

// visit calls fn with the window's records of every cell the region
// touches: whole (all true: records i..j all inside) or across its edge
// (in tells whether record k is inside); callers hold e.mu.
func (e *Engine) visit(w *window, rg region, fn func(c *cell, i, j int, all bool)) {
	minLat, maxLat, spans := rg.bounds()
	e.cellsIn(minLat, maxLat, spans, func(c *cell) {
		i, j := w.span(c)
		if i == j {
			return
		}
		switch rg.classify(e.g, c) {
		case 1:
			fn(c, i, j, true)
		case 0:
			fn(c, i, j, false)
		}
	})
}

// inside reports whether record k of c lies in the region.
func (e *Engine) inside(rg region, c *cell, k int) bool {
	lng, lat := e.g.point(c, &c.recs[k])
	return rg.contains(lng, lat)
}
