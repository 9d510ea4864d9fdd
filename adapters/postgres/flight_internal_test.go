package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// Each caller is served by a run that started after it asked: a caller
// that arrives while a run is going waits for it and for the next. Callers
// arriving during one run share the next.
func TestFlightServesEachCallerARunStartedAfterIt(t *testing.T) {
	t.Parallel()
	var f flight
	ctx := context.Background()
	var started, ended atomic.Int64
	gate := make(chan struct{})
	run := func(context.Context) error {
		if started.Add(1) == 1 {
			<-gate // the first run lasts until every caller has asked
		}
		ended.Add(1)
		return nil
	}
	first := make(chan error, 1)
	go func() { first <- f.do(ctx, run) }()
	for started.Load() == 0 {
	}
	const callers = 20
	var wg sync.WaitGroup
	asked := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			before := started.Load() // runs started before this caller asked
			asked <- struct{}{}
			if err := f.do(ctx, run); err != nil {
				t.Error(err)
			}
			if ended.Load() <= before {
				t.Errorf("a caller that asked after %d runs started returned after %d ended", before, ended.Load())
			}
		})
	}
	for range callers {
		<-asked
	}
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := started.Load(); n < 2 || n > 1+callers {
		t.Fatalf("%d runs for %d callers", n, callers+1)
	}
	t.Logf("%d runs served %d callers", started.Load(), callers+1)
}

// A run cut short by the context of the caller who started it does not
// answer the others: one of them runs again.
func TestFlightRunsAgainForOthersWhenTheStarterGivesUp(t *testing.T) {
	t.Parallel()
	var f flight
	starterCtx, giveUp := context.WithCancel(context.Background())
	started := make(chan struct{})
	runs := 0
	run := func(ctx context.Context) error {
		runs++
		if runs == 1 {
			close(started)
			<-ctx.Done() // the starter's context ends mid-run
			return ctx.Err()
		}
		return nil
	}
	first := make(chan error, 1)
	go func() { first <- f.do(starterCtx, run) }()
	<-started
	other := make(chan error, 1)
	go func() { other <- f.do(context.Background(), run) }()
	for {
		f.mu.Lock()
		waiting := f.running && f.started == 1
		f.mu.Unlock()
		if waiting {
			break
		}
	}
	giveUp()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the starter got %v, want its context's end", err)
	}
	if err := <-other; err != nil || runs != 2 {
		t.Fatalf("the other caller got %v after %d runs, want a second run of its own", err, runs)
	}
}
