package threat

import (
	"context"
	"log/slog"
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

// Engine keeps incidents in a grid of day buckets and answers the threat
// intelligence queries from it. It is safe for concurrent use.
type Engine struct {
	cfg  Config
	g    grid
	now  clock.Func
	log  *slog.Logger
	mu   sync.RWMutex
	cell map[cellKey]*cell
	n    int

	refMu sync.Mutex
	ref   *reference
}

// MaxAge is how far back the engine keeps incidents: the longest window.
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
	return &Engine{cfg: cfg, g: newGrid(cfg.CellM), now: cfg.Now, log: cfg.Logger, cell: map[cellKey]*cell{}}
}

// Load adds every report src has for the last MaxAge. It returns the
// source's checkpoint: where following later changes starts.
func (e *Engine) Load(ctx context.Context, src Source) (checkpoint int64, err error) {
	return src.ThreatReports(ctx, e.now().Add(-MaxAge), func(r Report) error {
		e.Add(r)
		return nil
	})
}

// valid reports whether r can be counted.
func valid(r Report) bool {
	return r.Location.Validate("") == nil && categoryIndex(r.Category) >= 0 && SeverityWeights[r.Severity] > 0 && !r.At.IsZero()
}

// Add counts one report. It costs a map look-up and a bucket update.
func (e *Engine) Add(r Report) {
	if !valid(r) {
		return
	}
	k := e.g.key(r.Location)
	e.mu.Lock()
	c := e.cell[k]
	if c == nil {
		c = &cell{}
		e.cell[k] = c
	}
	c.add(r, +1)
	e.n++
	e.mu.Unlock()
}

// Remove uncounts a report added before (a false alarm found out later).
func (e *Engine) Remove(r Report) {
	if !valid(r) {
		return
	}
	k := e.g.key(r.Location)
	e.mu.Lock()
	if c := e.cell[k]; c != nil {
		c.add(r, -1)
		if len(c.buckets) == 0 {
			delete(e.cell, k)
		}
		e.n--
	}
	e.mu.Unlock()
}

// Len returns how many reports the engine holds.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.n
}
