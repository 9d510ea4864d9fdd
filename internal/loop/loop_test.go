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

// A wake that comes within MinGap of the last round waits out the rest of
// the gap before the next round; the first wake is served at once.
func TestRunWaitsOutMinGap(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wake := make(chan struct{}) // unbuffered: a send returns once the loop took it
	gaps := make(chan time.Duration)
	release := make(chan time.Time)
	ticked := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Loop{Name: "worker", Every: time.Hour, Wake: wake, MinGap: time.Minute, Log: slog.New(slog.DiscardHandler),
			After: func(d time.Duration) <-chan time.Time { gaps <- d; return release }},
			func(ctx context.Context) (bool, error) {
				select {
				case ticked <- struct{}{}:
				case <-ctx.Done():
				}
				return false, nil
			})
	}()
	wake <- struct{}{}
	select {
	case <-ticked:
	case d := <-gaps:
		t.Fatalf("the first wake waited %v; want a round at once", d)
	}
	wake <- struct{}{}
	select {
	case d := <-gaps:
		if d <= 0 || d > time.Minute {
			t.Fatalf("waited %v, want the rest of a one-minute gap", d)
		}
	case <-ticked:
		t.Fatal("a round started inside the gap")
	}
	release <- time.Now()
	<-ticked // the round after the gap
	cancel()
	<-done
}
