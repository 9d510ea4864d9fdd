package threat

import (
	"math"
	"time"
)

// boundMemo remembers where one window start falls among a cell's
// records: for every time t in from … to, the first record at or after t
// is record i and the running weight before it is w — exactly what
// cell.bound finds by searching. A query whose window starts there reads
// the cell's bound from the cell's first bytes instead of searching its
// directory and records: a danger-zone study weighs every cell of its
// lattice (ten thousand for a 30 km route), and the search was most of
// its time.
//
// Memos are made for the start of the default 90-day window (memoDays),
// under the engine's write lock only, so readers never race: when a cell
// changes (index forgets the memo; the engine remembers again at the
// engine's current mark) and when the mark is an hour old (rlock). In
// between, the window start moves on and passes a cell's next record now
// and then; that cell's memo then answers nothing and the search runs, as
// it does for every other window length.
type boundMemo struct {
	from, to uint32
	i        int32
	w        float64
}

// memoDays is the window the memos are made for: the default.
const memoDays = 90

// memoEvery is how far the window start may move past the engine's mark
// before every memo is made again.
const memoEvery = time.Hour

// remember makes c's memo for window start t; callers hold e.mu for
// writing.
func (c *cell) remember(t uint32) {
	c.memo = boundMemo{from: 1} // bound must search
	i, w := c.bound(t)
	m := boundMemo{from: 0, to: math.MaxUint32, i: int32(i), w: w}
	if i > 0 {
		m.from = c.ts[i-1] + 1 // c.ts[i-1] < t
	}
	if i < len(c.ts) {
		m.to = c.ts[i]
	}
	c.memo = m
}

// memoMark is where the default window starts now: the time memos are
// made for.
func (e *Engine) memoMark() uint32 {
	return clampU32(e.now().Add(-memoDays * 24 * time.Hour).Unix())
}

// memoStale tells whether the default window has moved far enough from
// the mark the memos were made for to make them again (either way: a
// query that read the clock a moment before another's remaking must not
// remake them back); callers hold e.mu.
func (e *Engine) memoStale(mark uint32) bool {
	d := int64(mark) - int64(e.memoAt)
	return !e.memoSet || max(d, -d) > int64(memoEvery/time.Second)
}

// rememberAll makes every cell's memo for mark; callers hold e.mu for
// writing, with no cell dirty.
func (e *Engine) rememberAll(mark uint32) {
	e.memoAt, e.memoSet = mark, true
	for _, r := range e.rows.all() {
		for i := range r.cells {
			e.summarize(r, i)
		}
	}
}
