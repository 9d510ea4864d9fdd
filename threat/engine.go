package threat

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/defaults"
)

// Config tunes the engine; zero fields get the contract's defaults.
type Config struct {
	Now      clock.Func
	Logger   *slog.Logger
	CellM    float64       // grid cell side in metres; default 250
	HalfLife time.Duration // decay half-life; default 30 days
	// ScoreRadiusM is the radius of the reference distribution scores are
	// ranked against; default 500 m, the score's default radius.
	ScoreRadiusM float64
	// RefreshEvery bounds how stale the reference distribution may be;
	// default 10 minutes.
	RefreshEvery time.Duration
}

// Engine keeps every incident compactly in a grid (16 bytes each, with
// running totals per cell) and answers the threat intelligence queries
// from it: cells wholly inside a query's region from their totals, cells
// across its edge incident by incident. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	g        grid
	now      clock.Func
	log      *slog.Logger
	halfSecs float64

	mu    sync.RWMutex
	rows  rowIndex
	cells int       // populated cells
	dirty []cellKey // cells whose records arrived out of order
	moved int       // records added or removed since the last pack
	ref   int64     // reference instant of the running totals (unix s)
	hasRf bool
	n     int

	memoAt  uint32 // the window start cells' memos were made for
	memoSet bool

	refMu sync.Mutex
	refD  *reference
}

// MaxAge is how far back the engine loads incidents: the longest window.
const MaxAge = 365 * 24 * time.Hour

// NewEngine returns an empty engine.
func NewEngine(cfg Config) *Engine {
	cfg.Now = defaults.Clock(cfg.Now)
	cfg.Logger = defaults.Logger(cfg.Logger)
	if cfg.CellM <= 0 {
		cfg.CellM = 250
	}
	if cfg.HalfLife <= 0 {
		cfg.HalfLife = 30 * 24 * time.Hour
	}
	if cfg.ScoreRadiusM <= 0 {
		cfg.ScoreRadiusM = 500
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 10 * time.Minute
	}
	return &Engine{cfg: cfg, g: newGrid(cfg.CellM), now: cfg.Now, log: cfg.Logger, halfSecs: cfg.HalfLife.Seconds()}
}

// Load adds every report src has for the last MaxAge. It returns the
// source's checkpoint: where following later changes starts.
func (e *Engine) Load(ctx context.Context, src Source) (Checkpoint, error) {
	return src.ThreatReports(ctx, e.now().Add(-MaxAge), func(r Report) error {
		e.Add(r)
		return nil
	})
}

// valid reports whether r can be counted: a valid position, category and
// severity, and a time between 1970 and 2106 (kept to the second).
func valid(r Report) bool {
	if r.Location.Validate("") != nil || categoryIndex(r.Category) < 0 || r.Severity.Weight() <= 0 || r.At.IsZero() {
		return false
	}
	t := r.At.Unix()
	return t >= 0 && t <= math.MaxUint32
}

// rebaseAfter is how many half-lives the running totals may span before
// their reference instant moves (2^±900 stays well inside float64).
const rebaseAfter = 900

func (e *Engine) record(r Report) (cellKey, entry) {
	p := r.Location
	if p.Lng() >= 180 {
		p[0] -= 360 // the seam's east side is its west side: the cell of −180
	}
	k := e.g.key(p)
	x, y := k.xy()
	return k, entry{rec: rec{
		t:    uint32(r.At.Unix()),
		dLng: float32(p.Lng() - float64(x)*e.g.deg),
		dLat: float32(p.Lat() - float64(y)*e.g.deg),
		cat:  uint8(categoryIndex(r.Category)),
		sev:  uint8(slices.Index(Severities, r.Severity)),
	}}
}

// Add counts one report. In time order (or a few records late) it costs a
// look-up of its cell and an insert; further out of order it marks the
// cell for sorting at the next query.
func (e *Engine) Add(r Report) {
	if !valid(r) {
		return
	}
	k, rc := e.record(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.hasRf {
		e.ref, e.hasRf = int64(rc.t), true
	}
	if math.Abs(float64(int64(rc.t)-e.ref)/e.halfSecs) > rebaseAfter {
		e.rebase(int64(rc.t))
	}
	rw, i := e.obtain(k)
	c := &rw.cells[i]
	e.n++
	e.moved++
	if !c.dirty {
		// In order, or a little late: insert it and redo the totals after it.
		at := len(c.recs)
		if at > 0 && c.recs[at-1].t > rc.t {
			at = searchT(c.ts, rc.t+1)
		}
		if len(c.recs)-at <= lateInsert {
			c.insert(at, rc, e.ref, e.halfSecs)
			e.summarize(rw, i)
			return
		}
	}
	c.recs = append(c.recs, rc)
	e.markDirty(c) // its sum is made when it is sorted, before any query
}

// summarize makes the memo of cell i of r for the engine's mark and its
// sum from it; callers hold e.mu for writing.
func (e *Engine) summarize(r *row, i int) {
	r.cells[i].remember(e.memoAt)
	r.sums[i], r.tails[i] = r.cells[i].sum()
}

// lateInsert is how many newer records an added one may precede and still
// be inserted at once; further back, the cell is sorted at the next query.
const lateInsert = 16

// markDirty lists c for sorting, once.
func (e *Engine) markDirty(c *cell) {
	if !c.dirty {
		e.dirty = append(e.dirty, keyOf(c.x, c.y))
	}
	c.dirty = true
}

// rebase moves the reference instant of every running total to t.
func (e *Engine) rebase(t int64) {
	e.ref = t
	for _, r := range e.rows.all() {
		for i := range r.cells {
			e.markDirty(&r.cells[i])
		}
	}
}

// Remove uncounts a report added before (a false alarm found out later).
func (e *Engine) Remove(r Report) {
	if !valid(r) {
		return
	}
	k, rc := e.record(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	rw, at := e.find(k)
	if rw == nil {
		return
	}
	c := &rw.cells[at]
	best, bestD := -1, math.Inf(1)
	for i, o := range c.recs {
		if o.t == rc.t && o.cat == rc.cat && o.sev == rc.sev {
			if d := math.Abs(float64(o.dLng-rc.dLng)) + math.Abs(float64(o.dLat-rc.dLat)); d < bestD {
				best, bestD = i, d
			}
		}
	}
	if best < 0 {
		return // not here: nothing to remove
	}
	c.recs = slices.Delete(c.recs, best, best+1)
	e.n--
	e.moved++
	if len(c.recs) == 0 {
		e.drop(k) // a dirty list entry for it finds nothing
		return
	}
	if !c.dirty {
		c.redo(best, e.ref, e.halfSecs)
		e.summarize(rw, at)
	}
}

// find returns the row of the cell of k and the cell's place in it, or
// nil; the place is valid until a cell is added to or dropped from the
// row.
func (e *Engine) find(k cellKey) (*row, int) {
	x, y := k.xy()
	r := e.rows.at(y)
	if r == nil {
		return nil, 0
	}
	if i, ok := slices.BinarySearch(r.xs, x); ok {
		return r, i
	}
	return nil, 0
}

// obtain returns the row of the cell of k and its place, adding it if
// need be.
func (e *Engine) obtain(k cellKey) (*row, int) {
	x, y := k.xy()
	r := e.rows.at(y)
	if r == nil {
		r = &row{}
		e.rows.set(y, r)
	}
	i, ok := slices.BinarySearch(r.xs, x)
	if !ok {
		r.xs = slices.Insert(r.xs, i, x)
		r.cells = slices.Insert(r.cells, i, cell{x: x, y: y})
		r.sums = slices.Insert(r.sums, i, cellSum{from: 1})
		r.tails = slices.Insert(r.tails, i, cellTail{})
		e.cells++
	}
	return r, i
}

// drop removes the cell of k.
func (e *Engine) drop(k cellKey) {
	x, y := k.xy()
	r := e.rows.at(y)
	if r == nil {
		return
	}
	if i, ok := slices.BinarySearch(r.xs, x); ok {
		r.xs = slices.Delete(r.xs, i, i+1)
		r.cells = slices.Delete(r.cells, i, i+1)
		r.sums = slices.Delete(r.sums, i, i+1)
		r.tails = slices.Delete(r.tails, i, i+1)
		e.cells--
	}
	if len(r.xs) == 0 {
		e.rows.remove(y)
	}
}

// rlock read-locks the engine with every cell sorted and its memo made
// for the default window's start within the hour (see boundMemo), and
// sets the window's decay factor for this moment.
func (e *Engine) rlock(ws ...*window) {
	mark := e.memoMark()
	for {
		e.mu.RLock()
		if len(e.dirty) == 0 && e.moved <= e.n/4 && !e.memoStale(mark) {
			break
		}
		e.mu.RUnlock()
		e.mu.Lock()
		for _, k := range e.dirty {
			if r, i := e.find(k); r != nil && r.cells[i].dirty {
				r.cells[i].rebuild(e.ref, e.halfSecs)
				e.summarize(r, i)
			}
		}
		e.dirty = e.dirty[:0]
		if e.moved > e.n/4 {
			e.pack()
		}
		if e.memoStale(mark) {
			e.rememberAll(mark)
		}
		e.mu.Unlock()
	}
	for _, w := range ws {
		w.scale = math.Exp2(float64(e.ref-w.now) / e.halfSecs)
	}
}

// pack lays the records of every row out in one array, cell after cell,
// so a query that reads a row's records reads memory in order. It runs
// when a quarter of the records were added or removed since the last
// pack; callers hold e.mu for writing.
func (e *Engine) pack() {
	cells := 0
	for _, r := range e.rows.all() {
		cells += len(r.xs)
	}
	xs, sums, tails := make([]int32, 0, cells), make([]cellSum, 0, cells), make([]cellTail, 0, cells)
	for _, r := range e.rows.all() {
		// The rows' columns, sums and tails too, each in one array, row
		// after row: a study reads them for a hundred rows and more, and
		// as separate allocations every row's were pages of their own,
		// each a miss in the address translation's cache (and its tables)
		// when other work has been through.
		k := len(xs)
		xs, sums, tails = append(xs, r.xs...), append(sums, r.sums...), append(tails, r.tails...)
		r.xs, r.sums, r.tails = xs[k:len(xs):len(xs)], sums[k:len(sums):len(sums)], tails[k:len(tails):len(tails)]
		n := 0
		for i := range r.cells {
			n += len(r.cells[i].recs)
		}
		recs, ts := make([]entry, 0, n), make([]uint32, 0, n)
		for i := range r.cells {
			c := &r.cells[i]
			recs, ts = append(recs, c.recs...), append(ts, c.ts...)
			m := len(recs)
			c.recs, c.ts = recs[m-len(c.recs):m:m], ts[m-len(c.ts):m:m]
		}
	}
	e.moved = 0
}

// Len returns how many reports the engine holds.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.n
}
