package threat

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sety-io/sety/geo"
)

// metersPerDegree is the length of a degree of latitude.
const metersPerDegree = 111195.0

// cellKey packs a cell's column (x, longitude) and row (y, latitude).
type cellKey int64

func keyOf(x, y int32) cellKey { return cellKey(int64(y)<<32 | int64(uint32(x))) }

func (k cellKey) xy() (int32, int32) { return int32(uint32(k)), int32(k >> 32) }

// grid maps positions to square cells of a fixed size in degrees: cellM
// metres of latitude, and as many degrees of longitude (narrower away from
// the equator: at Lagos 0.7 % narrower, at 60° half as wide).
type grid struct {
	deg   float64 // cell side in degrees
	cellM float64 // cell side in metres of latitude
}

func newGrid(cellM float64) grid { return grid{deg: cellM / metersPerDegree, cellM: cellM} }

func (g grid) col(lng float64) int32 { return int32(math.Floor(lng / g.deg)) }
func (g grid) row(lat float64) int32 { return int32(math.Floor(lat / g.deg)) }

func (g grid) key(p geo.Point) cellKey { return keyOf(g.col(p.Lng()), g.row(p.Lat())) }

func (g grid) center(k cellKey) geo.Point {
	x, y := k.xy()
	return geo.Point{(float64(x) + 0.5) * g.deg, (float64(y) + 0.5) * g.deg}
}

// halfDiagonal bounds the distance from a cell's centre to any point of
// it, in metres (cells are at most cellM wide), with a margin for the
// sphere.
func (g grid) halfDiagonal() float64 { return g.cellM*math.Sqrt2/2 + 0.5 }

func categoryIndex(c Category) int { return slices.Index(Categories, c) }

// rec is one incident as the engine keeps it, in 16 bytes: its time to the
// second, its position as float32 offsets from its cell's south-west
// corner (about 25 µm of precision), its category and severity.
type rec struct {
	t    uint32  // unix seconds
	dLng float32 // degrees east of the cell's west edge
	dLat float32 // degrees north of the cell's south edge
	cat  uint8   // index into Categories
	sev  uint8   // index into Severities
}

// cum is a running total over a cell's records in time order: cum[i]
// covers records [0, i). Weights are kept at the engine's reference
// instant ref: record k adds s_k · 2^((t_k − ref)/h), so the decayed weight
// of records [i, j) now is (cum[j].w − cum[i].w) · 2^((ref − now)/h) —
// decay is multiplicative, so one factor per query rescales every sum
// exactly.
type cum struct {
	w float64   // severity weight at ref
	c [4]uint32 // records, by category
}

// cell is one grid cell: every incident in it, oldest first, with running
// totals. A cell whose records arrived out of order is dirty (cum is nil)
// until the next query sorts it.
type cell struct {
	x, y int32
	dir  [8]uint32 // times of records (k+1)·n/8 − 1: most searches end here
	recs []rec
	cum  []cum
}

func (c *cell) dirPos(k int) int { return (k+1)*len(c.recs)/8 - 1 }

// index refreshes the time directory.
func (c *cell) index() {
	for k := range c.dir {
		c.dir[k] = 0
		if p := c.dirPos(k); p >= 0 {
			c.dir[k] = c.recs[p].t
		}
	}
}

// lowerBound returns the first record at or after unix time t.
func (c *cell) lowerBound(t uint32) int {
	k := 0
	for k < len(c.dir) && c.dir[k] < t {
		k++
	}
	if k == len(c.dir) {
		return len(c.recs)
	}
	lo := 0
	if k > 0 {
		lo = c.dirPos(k-1) + 1
	}
	hi := c.dirPos(k) // its time is at or after t
	if hi < lo {
		return lo
	}
	return lo + searchT(c.recs[lo:hi], t)
}

func (c *cell) dirty() bool { return len(c.cum) != len(c.recs)+1 }

// row lists the populated cells of one grid row by column, so a query
// visits populated cells only, however wide its longitude range (near the
// poles a few hundred metres span thousands of columns).
type row struct {
	xs    []int32
	cells []*cell
}

// point returns the position of record r of cell c.
func (g grid) point(c *cell, r *rec) (lng, lat float64) {
	return float64(c.x)*g.deg + float64(r.dLng), float64(c.y)*g.deg + float64(r.dLat)
}

// severityWeight returns the weight of severity index s.
var severityWeight = [4]float64{1, 2, 3, 5}

// rebuild sorts a dirty cell's records by time and recomputes its totals.
func (c *cell) rebuild(ref int64, halfSecs float64) {
	slices.SortStableFunc(c.recs, func(a, b rec) int { return cmp.Compare(a.t, b.t) })
	c.cum = slices.Grow(c.cum[:0], len(c.recs)+1)[:1]
	c.cum[0] = cum{}
	for i := range c.recs {
		c.cum = append(c.cum, c.cum[i].next(&c.recs[i], ref, halfSecs))
	}
	c.index()
}

func (s cum) next(r *rec, ref int64, halfSecs float64) cum {
	s.w += severityWeight[r.sev] * math.Exp2(float64(int64(r.t)-ref)/halfSecs)
	s.c[r.cat]++
	return s
}

// window is a query's time frame: the records with lo ≤ t ≤ hi, and the
// factor that turns running totals into weights now.
type window struct {
	from, to  time.Time
	lo, hi    uint32
	now       int64   // unix seconds
	scale     float64 // 2^((ref − now)/h), set when the engine is read
	halfSecs  float64
	catMask   [4]bool // categories counted
	hasFilter bool
}

func newWindow(now time.Time, days int, halfLife time.Duration, category Category) window {
	w := window{from: now.Add(-time.Duration(days) * 24 * time.Hour), to: now, halfSecs: halfLife.Seconds(), now: now.Unix()}
	w.lo = clampU32(w.from.Unix())
	w.hi = clampU32(w.now)
	if w.from.Unix() < 0 && w.now < 0 {
		w.lo, w.hi = 1, 0 // nothing
	}
	for i, c := range Categories {
		w.catMask[i] = category == "" || c == category
	}
	w.hasFilter = category != ""
	return w
}

func clampU32(v int64) uint32 { return uint32(min(max(v, 0), math.MaxUint32)) }

// span returns the records of c inside the window: c.recs[i:j].
func (w *window) span(c *cell) (int, int) {
	i, j := c.lowerBound(w.lo), len(c.recs)
	if c.dir[len(c.dir)-1] > w.hi {
		j = c.lowerBound(w.hi + 1)
	}
	return i, j
}

// searchT returns the first record at or after unix time t.
func searchT(rs []rec, t uint32) int {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].t < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// since returns the first record of c at or after unix time t, from i on.
func since(c *cell, i int, t int64) int { return max(i, c.lowerBound(clampU32(t))) }

// weightOf is the decayed weight now of record k of c.
func (w *window) weightOf(c *cell, k int) float64 { return (c.cum[k+1].w - c.cum[k].w) * w.scale }

// sum is the decayed weight and the count of records i..j of c, in the
// window's categories.
func (w *window) sum(c *cell, i, j int) (float64, int) {
	if !w.hasFilter {
		return (c.cum[j].w - c.cum[i].w) * w.scale, j - i
	}
	var s float64
	n := 0
	for k := i; k < j; k++ {
		if w.catMask[c.recs[k].cat] {
			s += c.cum[k+1].w - c.cum[k].w
			n++
		}
	}
	return s * w.scale, n
}

// weight is the decayed weight and the count of c in the window.
func (w *window) weight(c *cell) (float64, int) {
	i, j := w.span(c)
	return w.sum(c, i, j)
}

// hourOf is the UTC hour of day of a record.
func hourOf(r *rec) int { return int(r.t % 86400 / 3600) }

// dayOf is the day since the Unix epoch of a record.
func dayOf(r *rec) int32 { return int32(r.t / 86400) }
