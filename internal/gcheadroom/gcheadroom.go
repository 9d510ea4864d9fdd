// Package gcheadroom gives a server process's Go garbage collector room
// to work in while its live heap is small, and Go's default once it is not.
//
// Go's collector starts a cycle when the heap has grown by GOGC percent
// (100) of what the last cycle found live. A Sety server keeps little
// live (about 10 MB under load: its caches are bounded and the threat
// engine is compact) and allocates fast (every request), so at GOGC=100
// a server under 64 clients collected 14 times a second and spent 13–14 %
// of its CPU marking and assisting (bench/README.md, issue 24, "the
// collector"). With a heap of ten megabytes, room is what costs least.
//
// Start sets the collector's percentage to leave Headroom bytes of growth
// above the live heap — never below Go's 100, never above MaxPercent —
// and follows the live heap as it changes. A process with a large live
// heap runs exactly as under Go's default; a small one uses at most
// Headroom more memory. An operator who set GOGC or GOMEMLIMIT has
// chosen: Start then leaves the collector alone.
//
// Only documented runtime interfaces are used: runtime/metrics for the
// live heap, runtime/debug.SetGCPercent for the percentage.
package gcheadroom

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Headroom is the growth above the live heap the collector is given
	// while the live heap is small.
	Headroom = 64 << 20
	// MaxPercent bounds the percentage, so a nearly empty heap still
	// collects as its allocations grow.
	MaxPercent = 400
	// Every is how often Start looks at the live heap again.
	Every = time.Second
)

// Percent is the collector's percentage for a live heap of live bytes:
// the one that leaves Headroom of growth, within [100, MaxPercent].
func Percent(live uint64) int {
	if live >= Headroom {
		return 100
	}
	if live == 0 {
		return MaxPercent
	}
	return int(min(100*Headroom/live, MaxPercent)) // above 100: live < Headroom
}

// Start sets the collector's percentage from the live heap now and again
// every Every until ctx ends, and then puts Go's back, unless getenv says
// GOGC or GOMEMLIMIT is set: then it does nothing and returns nil. It
// returns a channel closed once the percentage is back.
func Start(ctx context.Context, getenv func(string) string) (stopped <-chan struct{}) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return nil
	}
	f := &follower{live: liveHeap, setPercent: debug.SetGCPercent}
	before := f.start()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				debug.SetGCPercent(before)
				return
			case <-t.C:
				f.step()
			}
		}
	}()
	return done
}

// A follower keeps the percentage at Percent of the live heap.
type follower struct {
	live       func() uint64
	setPercent func(int) int // returns the percentage before
	current    int
}

// start sets the percentage for the live heap now and returns the one
// set before.
func (f *follower) start() int {
	f.current = Percent(f.live())
	return f.setPercent(f.current)
}

// step sets the percentage again if the live heap asks for another.
func (f *follower) step() {
	if p := Percent(f.live()); p != f.current {
		f.setPercent(p)
		f.current = p
	}
}

// liveHeap reads the bytes the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
