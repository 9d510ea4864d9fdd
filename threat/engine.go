package threat

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
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
	cell  map[cellKey]*cell
	rows  map[int32]*row
	dirty []*cell // cells whose records arrived out of order
	ref   int64   // reference instant of the running totals (unix s)
	hasRf bool
	n     int

	refMu sync.Mutex
	refD  *reference
}

// MaxAge is how far back the engine loads incidents: the longest window.
const MaxAge = 365 * 24 * time.Hour

// NewEngine returns an empty engine.
func NewEngine(cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = clock.System
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
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
	return &Engine{cfg: cfg, g: newGrid(cfg.CellM), now: cfg.Now, log: cfg.Logger, halfSecs: cfg.HalfLife.Seconds(),
		cell: map[cellKey]*cell{}, rows: map[int32]*row{}}
}

// Load adds every report src has for the last MaxAge.
func (e *Engine) Load(ctx context.Context, src Source) error {
	return src.ThreatReports(ctx, e.now().Add(-MaxAge), func(r Report) error {
		e.Add(r)
		return nil
	})
}

// valid reports whether r can be counted: a valid position, category and
// severity, and a time between 1970 and 2106 (kept to the second).
func valid(r Report) bool {
	if r.Location.Validate("") != nil || categoryIndex(r.Category) < 0 || SeverityWeights[r.Severity] <= 0 || r.At.IsZero() {
		return false
	}
	t := r.At.Unix()
	return t >= 0 && t <= math.MaxUint32
}

// rebaseAfter is how many half-lives the running totals may span before
// their reference instant moves (2^±900 stays well inside float64).
const rebaseAfter = 900

func (e *Engine) record(r Report) (cellKey, rec) {
	p := r.Location
	k := e.g.key(p)
	x, y := k.xy()
	return k, rec{
		t:    uint32(r.At.Unix()),
		dLng: float32(p.Lng() - float64(x)*e.g.deg),
		dLat: float32(p.Lat() - float64(y)*e.g.deg),
		cat:  uint8(categoryIndex(r.Category)),
		sev:  uint8(slices.Index(Severities, r.Severity)),
	}
}

// Add counts one report. In time order it costs a map look-up and an
// append; out of order it marks the cell for sorting at the next query.
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
	c := e.cell[k]
	if c == nil {
		x, y := k.xy()
		c = &cell{x: x, y: y, cum: make([]cum, 1, 2)}
		e.cell[k] = c
		e.insertRow(c)
	}
	e.n++
	if !c.dirty() && (len(c.recs) == 0 || c.recs[len(c.recs)-1].t <= rc.t) {
		c.recs = append(c.recs, rc)
		c.cum = append(c.cum, c.cum[len(c.cum)-1].next(&rc, e.ref, e.halfSecs))
		c.index()
		return
	}
	c.recs = append(c.recs, rc)
	e.markDirty(c)
}

// markDirty lists c for sorting (once: a listed cell has no totals).
func (e *Engine) markDirty(c *cell) {
	if c.cum != nil {
		e.dirty = append(e.dirty, c)
	}
	c.cum = nil
}

// rebase moves the reference instant of every running total to t.
func (e *Engine) rebase(t int64) {
	e.ref = t
	for _, c := range e.cell {
		e.markDirty(c)
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
	c := e.cell[k]
	if c == nil {
		return
	}
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
	if len(c.recs) == 0 {
		delete(e.cell, k)
		e.deleteRow(c)
		c.cum = []cum{{}} // clean and empty, in case it is on the dirty list
		return
	}
	e.markDirty(c)
}

func (e *Engine) insertRow(c *cell) {
	r := e.rows[c.y]
	if r == nil {
		r = &row{}
		e.rows[c.y] = r
	}
	i, _ := slices.BinarySearch(r.xs, c.x)
	r.xs = slices.Insert(r.xs, i, c.x)
	r.cells = slices.Insert(r.cells, i, c)
}

func (e *Engine) deleteRow(c *cell) {
	r := e.rows[c.y]
	if r == nil {
		return
	}
	if i, ok := slices.BinarySearch(r.xs, c.x); ok {
		r.xs = slices.Delete(r.xs, i, i+1)
		r.cells = slices.Delete(r.cells, i, i+1)
	}
	if len(r.xs) == 0 {
		delete(e.rows, c.y)
	}
}

// rlock read-locks the engine with every cell sorted, and sets the
// window's decay factor for this moment.
func (e *Engine) rlock(ws ...*window) {
	for {
		e.mu.RLock()
		if len(e.dirty) == 0 {
			break
		}
		e.mu.RUnlock()
		e.mu.Lock()
		for _, c := range e.dirty {
			if c.dirty() {
				c.rebuild(e.ref, e.halfSecs)
			}
		}
		e.dirty = e.dirty[:0]
		e.mu.Unlock()
	}
	for _, w := range ws {
		w.scale = math.Exp2(float64(e.ref-w.now) / e.halfSecs)
	}
}

// Len returns how many reports the engine holds.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.n
}
