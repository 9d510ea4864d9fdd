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

// grid maps positions to square cells of a fixed size in degrees: about
// cellM metres of latitude, and as many degrees of longitude (narrower away
// from the equator: at Lagos 0.7 % narrower, at 60° half as wide). The
// side is 180° / half for an even whole number half, so the cells tile the
// globe exactly: columns −half … half−1 cover [−180°, 180°) and rows
// −half/2 … half/2−1 cover [−90°, 90°). No cell straddles the antimeridian,
// and column half−1 is the west neighbour of column −half.
type grid struct {
	deg   float64 // cell side in degrees: 180 / half
	cellM float64 // cell side in metres of latitude
	half  int32   // columns in 180° of longitude (even)
}

func newGrid(cellM float64) grid {
	half := max(2, 2*math.Round(90/(cellM/metersPerDegree)))
	return grid{deg: 180 / half, cellM: 180 / half * metersPerDegree, half: int32(half)}
}

// col and row compute lng·half/180 rather than lng/deg, so ±180° and ±90°
// fall exactly on cell edges.
func (g grid) col(lng float64) int32 { return int32(math.Floor(lng * float64(g.half) / 180)) }
func (g grid) row(lat float64) int32 { return int32(math.Floor(lat * float64(g.half) / 180)) }

// cols is the number of columns around the globe.
func (g grid) cols() int32 { return 2 * g.half }

// wrapCol brings a column east or west of the seam back into −half … half−1.
func (g grid) wrapCol(x int32) int32 {
	n := g.cols()
	return ((x+g.half)%n+n)%n - g.half
}

// minRow and maxRow are the southernmost and northernmost rows.
func (g grid) minRow() int32 { return -g.half / 2 }
func (g grid) maxRow() int32 { return g.half/2 - 1 }

// key is the cell of a point with lng < 180 (180 is −180); the pole's
// points belong to the top row.
func (g grid) key(p geo.Point) cellKey { return keyOf(g.col(p.Lng()), min(g.row(p.Lat()), g.maxRow())) }

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

// cum is a running total over a cell's records in time order (cumAt(i)
// covers records [0, i)). Weights are kept at the engine's reference
// instant ref: record k adds s_k · 2^((t_k − ref)/h), so the decayed weight
// of records [i, j) now is (cumAt(j).w − cumAt(i).w) · 2^((ref − now)/h) —
// decay is multiplicative, so one factor per query rescales every sum
// exactly.
type cum struct {
	w float64 // severity weight at ref
}

// entry is a record with the running totals of the records before it,
// side by side so a query reads one array.
type entry struct {
	rec
	before cum
}

// cell is one grid cell: every incident in it, oldest first, with running
// totals. A cell whose records arrived out of order is dirty until the
// next query sorts it.
type cell struct {
	// What a study reads of a cell whose memo answers its window comes
	// first, within 64 bytes: a study reads every cell of its lattice.
	x, y  int32
	dirty bool
	last  uint32 // the time of the newest record; 0 when none
	memo  boundMemo
	total cum // the running totals of all records
	recs  []entry
	ts    []uint32 // the records' times again, dense: searches read few cache lines
	// A directory of the times of records (k+1)·n/16 − 1 and the running
	// weight before them: a window's bounds in a cell of up to 16 records
	// are found here without reading its records.
	dir  [dirN]uint32
	dirW [dirN]float64
}

// cumAt is the running totals of records [0, k).
func (c *cell) cumAt(k int) *cum {
	if k == len(c.recs) {
		return &c.total
	}
	return &c.recs[k].before
}

// insert puts r at position at of a sorted cell: the records after it
// keep their weights, so their totals just grow by r's.
func (c *cell) insert(at int, r entry, ref int64, halfSecs float64) {
	r.before = *c.cumAt(at)
	w := r.weightAt(ref, halfSecs)
	c.recs = slices.Insert(c.recs, at, r)
	c.ts = slices.Insert(c.ts, at, r.t)
	for k := at + 1; k < len(c.recs); k++ {
		c.recs[k].before.w += w
	}
	c.total.w += w
	c.index()
}

// redo recomputes the running totals from record k on.
func (c *cell) redo(k int, ref int64, halfSecs float64) {
	s := cum{}
	if k > 0 {
		s = c.recs[k-1].before.next(&c.recs[k-1].rec, ref, halfSecs)
	}
	c.ts = slices.Grow(c.ts[:min(k, len(c.ts))], len(c.recs)-k)[:len(c.recs)]
	for ; k < len(c.recs); k++ {
		c.recs[k].before = s
		c.ts[k] = c.recs[k].t
		s = s.next(&c.recs[k].rec, ref, halfSecs)
	}
	c.total = s
	c.index()
}

const dirN = 16

func (c *cell) dirPos(k int) int { return (k+1)*len(c.recs)/dirN - 1 }

// index refreshes the directory, and forgets the memo.
func (c *cell) index() {
	c.memo = boundMemo{from: 1} // answers no time
	c.last = 0
	if len(c.recs) > 0 {
		c.last = c.recs[len(c.recs)-1].t
	}
	for k := range c.dir {
		c.dir[k], c.dirW[k] = 0, 0
		if p := c.dirPos(k); p >= 0 {
			c.dir[k], c.dirW[k] = c.recs[p].t, c.recs[p].before.w
		}
	}
}

// bound returns the first record at or after unix time t and the running
// weight before it.
func (c *cell) bound(t uint32) (int, float64) {
	if m := &c.memo; m.from <= t && t <= m.to {
		return int(m.i), m.w
	}
	k := c.dirRank(t)
	if k == dirN {
		return len(c.recs), c.total.w
	}
	lo := 0
	if k > 0 {
		lo = c.dirPos(k-1) + 1
	}
	hi := c.dirPos(k) // its time is at or after t
	if hi < lo {
		return lo, c.cumAt(lo).w
	}
	if i := lo + searchT(c.ts[lo:hi], t); i < hi {
		return i, c.recs[i].before.w
	}
	return hi, c.dirW[k]
}

// dirRank is how many directory times are before t: a binary search in
// four halvings (a scan's exit is a branch the processor mispredicts).
// The directory is sorted; a small cell's unused entries are 0, first.
func (c *cell) dirRank(t uint32) int {
	k := 0
	if c.dir[7] < t {
		k = 8
	}
	if c.dir[k+3] < t {
		k += 4
	}
	if c.dir[k+1] < t {
		k += 2
	}
	if c.dir[k] < t {
		k++
	}
	if k == dirN-1 && c.dir[k] < t {
		k++
	}
	return k
}

// lowerBound returns the first record at or after unix time t.
func (c *cell) lowerBound(t uint32) int {
	i, _ := c.bound(t)
	return i
}

// row lists the populated cells of one grid row by column, so a query
// visits populated cells only, however wide its longitude range (near the
// poles a few hundred metres span thousands of columns).
type row struct {
	xs    []int32
	cells []cell // by value: a query streams through a row
	// sums[i] is what a study reads of cells[i] for the default window,
	// side by side: a study reads every cell of its lattice, and reading
	// 16 bytes a cell from one array rather than the first bytes of each
	// 288-byte cell is what makes a route's study cheap when other work
	// has taken the cells out of the cache. tails[i] is the rest, which a
	// route's study does not read: the count (for zones' evidence) and
	// the newest record's time (for windows shorter than the memo's).
	sums  []cellSum
	tails []cellTail
}

// cellSum and cellTail are a cell's weight and count in every window whose
// start its memo answers (from … to) and whose end is at or after its
// newest record (last): exactly what window.weight reads from the cell
// then. The engine keeps them equal to their cell's under its write lock
// (see Engine.summarize).
//
// For windows of the memo's length or longer, the end is at or after last
// whenever the start is at or after last less memoDays; from is the later
// of the two, so those windows need not read last at all.
type cellSum struct {
	w        float64 // the records' running weight: total − memo's
	from, to uint32
}

type cellTail struct {
	last uint32 // the newest record's time
	n    int32  // records from the memo's to the newest
}

// sum is c's cellSum and cellTail; a cell whose memo answers nothing gives
// a sum that answers nothing.
func (c *cell) sum() (cellSum, cellTail) {
	m := &c.memo
	from := m.from
	if m.from <= m.to {
		from = max(from, c.last-min(c.last, memoDays*86400))
	}
	return cellSum{w: c.total.w - m.w, from: from, to: m.to}, cellTail{last: c.last, n: int32(len(c.recs)) - m.i}
}

// answers tells whether cell i's sum holds the unfiltered weight of window
// w.
func (r *row) answers(i int, w *window) bool {
	s := &r.sums[i]
	return s.from <= w.lo && w.lo <= s.to && (w.long || r.tails[i].last <= w.hi)
}

// point returns the position of record r of cell c.
func (g grid) point(c *cell, r *entry) (lng, lat float64) {
	return float64(c.x)*g.deg + float64(r.dLng), float64(c.y)*g.deg + float64(r.dLat)
}

// severityWeight returns the weight of severity index s.
var severityWeight = [4]float64{1, 2, 3, 5}

// rebuild sorts a dirty cell's records by time and recomputes its totals.
func (c *cell) rebuild(ref int64, halfSecs float64) {
	slices.SortStableFunc(c.recs, func(a, b entry) int { return cmp.Compare(a.t, b.t) })
	c.redo(0, ref, halfSecs)
	c.dirty = false
}

func (s cum) next(r *rec, ref int64, halfSecs float64) cum {
	s.w += r.weightAt(ref, halfSecs)
	return s
}

// weightAt is the record's decayed weight at the reference instant.
func (r *rec) weightAt(ref int64, halfSecs float64) float64 {
	return severityWeight[r.sev] * math.Exp2(float64(int64(r.t)-ref)/halfSecs)
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
	long      bool // at least memoDays long (see cellSum)
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
	w.long = w.lo <= w.hi && w.hi-w.lo >= memoDays*86400
	return w
}

func clampU32(v int64) uint32 { return uint32(min(max(v, 0), math.MaxUint32)) }

// span returns the records of c inside the window: c.recs[i:j].
func (w *window) span(c *cell) (int, int) {
	i, j := c.lowerBound(w.lo), len(c.recs)
	if c.last > w.hi {
		j = c.lowerBound(w.hi + 1)
	}
	return i, j
}

// searchT returns the first record at or after unix time t.
func searchT(ts []uint32, t uint32) int {
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m] < t {
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
func (w *window) weightOf(c *cell, k int) float64 {
	return (c.cumAt(k+1).w - c.recs[k].before.w) * w.scale
}

// sum is the decayed weight and the count of records i..j of c, in the
// window's categories.
func (w *window) sum(c *cell, i, j int) (float64, int) {
	if !w.hasFilter {
		return (c.cumAt(j).w - c.cumAt(i).w) * w.scale, j - i
	}
	var s float64
	n := 0
	for k := i; k < j; k++ {
		if w.catMask[c.recs[k].cat] {
			s += c.cumAt(k+1).w - c.recs[k].before.w
			n++
		}
	}
	return s * w.scale, n
}

// weight is the decayed weight and the count of c in the window.
func (w *window) weight(c *cell) (float64, int) {
	if w.hasFilter {
		i, j := w.span(c)
		return w.sum(c, i, j)
	}
	i, wi := c.bound(w.lo)
	j, wj := len(c.recs), c.total.w
	if c.last > w.hi {
		j, wj = c.bound(w.hi + 1)
	}
	return (wj - wi) * w.scale, j - i
}

// hourOf is the UTC hour of day of a record.
func hourOf(r *entry) int { return int(r.t % 86400 / 3600) }

// dayOf is the day since the Unix epoch of a record.
func dayOf(r *entry) int32 { return int32(r.t / 86400) }
