// Package loop runs the background workers' ticking: on a timer, at once
// when woken, and again straight away while a tick says there is more.
package loop

import (
	"context"
	"log/slog"
	"time"
)

// Loop describes one background worker.
type Loop struct {
	Name  string          // names the worker in logs
	Every time.Duration   // tick at least this often
	Wake  <-chan struct{} // and at once when this fires (may be nil)
	// MinGap, when set, is the least time from the end of one round of
	// ticks to the start of the next: wakes that come sooner wait out the
	// rest of it and are served by one round. A worker woken by every
	// commit then reads one batch per gap under load instead of one query
	// per commit, and still answers a lone wake at once.
	MinGap time.Duration
	// After waits out the gap: time.After when nil (tests hold it open).
	After func(time.Duration) <-chan time.Time
	Log   *slog.Logger
}

// Run calls tick every l.Every and whenever l.Wake fires, until ctx ends.
// A tick that returns more=true (it handled a full batch) is repeated at
// once. Errors are logged and the loop goes on: the next tick retries. A
// tick cut short because ctx ended is a shutdown, not an error, and is not
// logged.
func Run(ctx context.Context, l Loop, tick func(context.Context) (more bool, err error)) {
	t := time.NewTicker(l.Every)
	defer t.Stop()
	var last time.Time // when the last round of ticks ended
	after := l.After
	if after == nil {
		after = time.After
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.Wake:
		}
		if wait := l.MinGap - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-after(wait):
			}
		}
		for ctx.Err() == nil {
			more, err := tick(ctx)
			if err != nil && ctx.Err() == nil {
				l.Log.ErrorContext(ctx, l.Name, "error", err)
			}
			if !more {
				break
			}
		}
		last = time.Now()
	}
}
