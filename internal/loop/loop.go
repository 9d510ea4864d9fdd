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
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.Wake:
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
	}
}
