// Package loop runs the background workers' ticking: on a timer, at once
// when woken, and again straight away while a tick says there is more.
package loop

import (
	"context"
	"time"
)

// Run calls tick every interval and whenever wake fires, until ctx ends.
// A tick that returns true (it handled a full batch) is repeated at once.
func Run(ctx context.Context, interval time.Duration, wake <-chan struct{}, tick func(context.Context) (more bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		for tick(ctx) && ctx.Err() == nil {
		}
	}
}
