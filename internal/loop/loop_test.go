package loop

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A tick that fails because the loop is stopping is not logged as an error;
// a tick that fails while running is.
func TestRunLogsErrorsButNotShutdown(t *testing.T) {
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	ticks := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Loop{Name: "worker", Every: time.Hour, Wake: wake, Log: slog.New(slog.NewTextHandler(&logs, nil))},
			func(ctx context.Context) (bool, error) {
				ticks++
				if ticks == 1 {
					return false, errors.New("store unavailable")
				}
				cancel()
				return true, ctx.Err() // more=true: the loop must still stop
			})
	}()
	wake <- struct{}{}
	wake <- struct{}{}
	<-done
	if ticks != 2 {
		t.Fatalf("ticks = %d, want 2", ticks)
	}
	out := logs.String()
	if !strings.Contains(out, "store unavailable") || strings.Contains(out, "context canceled") {
		t.Fatalf("logs:\n%s\nwant the failure logged and the shutdown not", out)
	}
}
