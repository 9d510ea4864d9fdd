package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/pgtest"
)

// waits stands in for time.After in a group's gather: it counts the
// waits asked for and ends one only when the test says so.
type waits struct {
	mu    sync.Mutex
	asked int
	next  chan struct{} // receives once per wait asked
	fire  chan time.Time
}

func newWaits() *waits {
	return &waits{next: make(chan struct{}, 16), fire: make(chan time.Time)}
}

func (w *waits) after(d time.Duration) <-chan time.Time {
	w.mu.Lock()
	w.asked++
	w.mu.Unlock()
	select {
	case w.next <- struct{}{}:
	default: // counted all the same
	}
	return w.fire
}

func (w *waits) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.asked
}

// gathering starts g.gather in its own goroutine and returns a channel
// closed when it returns.
func gathering(g *group) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		g.gather()
		close(done)
	}()
	return done
}

// queueCreates queues n creates in g, as do does, each given up (and so
// never sent) when the test ends.
func queueCreates(t *testing.T, g *group, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range n {
		go func() { _ = g.do(ctx, nil, nil, nil) }()
	}
}

// A group with no other group in flight goes at once, however few
// creates wait: gather asks for no wait.
func TestGatherGoesAtOnceWithNoGroupInFlight(t *testing.T) {
	t.Parallel()
	w := newWaits()
	g := &group{after: w.after, running: groupSlots, queue: []*grouped{{}}}
	<-gathering(g)
	if n := w.count(); n != 0 {
		t.Errorf("%d waits with no group in flight, want 0", n)
	}
}

// While another group is in flight and few creates wait, a group waits;
// the other group's answer ends the wait.
func TestGatherWaitsUntilTheGroupInFlightIsAnswered(t *testing.T) {
	t.Parallel()
	w := newWaits()
	g := &group{after: w.after, running: groupSlots, sending: 1, queue: []*grouped{{}}}
	done := gathering(g)
	<-w.next
	g.sent()
	<-done
	if g.sending != 0 {
		t.Errorf("sending %d after the group in flight was answered, want 0", g.sending)
	}
}

// Enough creates waiting end a gather's wait: queued through do, as
// callers queue them.
func TestGatherEndsWhenEnoughCreatesWait(t *testing.T) {
	t.Parallel()
	w := newWaits()
	g := &group{after: w.after, running: groupSlots, sending: 1}
	queueCreates(t, g, 1)
	for queued := 0; queued < 1; {
		g.mu.Lock()
		queued = len(g.queue)
		g.mu.Unlock()
	}
	done := gathering(g)
	<-w.next
	queueCreates(t, g, gatherEnough-1)
	<-done
}

// The wait is bounded: once it runs out, the group goes with what waits,
// the other group still in flight.
func TestGatherWaitIsBounded(t *testing.T) {
	t.Parallel()
	w := newWaits()
	g := &group{after: w.after, running: groupSlots, sending: 1, queue: []*grouped{{}}}
	done := gathering(g)
	<-w.next
	w.fire <- time.Time{}
	<-done
	// A gather that finds enough creates waiting does not wait at all.
	g.queue = make([]*grouped, gatherEnough)
	<-gathering(g)
	if n := w.count(); n != 1 {
		t.Errorf("%d waits, want 1", n)
	}
}

// A lone client, whose next create comes only after its last was
// answered, never waits in gather: its group is no longer in flight when
// it is answered.
func TestLoneCreatesNeverWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	w := newWaits()
	db.creates.after = w.after
	store := db.IncidentStore()
	for i := range 20 {
		inc, effects := storedIncident(fmt.Sprintf("inc_%016d", i))
		if _, _, err := store.CreateIncident(ctx, inc, effects); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if n := w.count(); n != 0 {
		t.Errorf("%d waits for 20 creates one after another, want 0", n)
	}
	if n := total(t, db); n != 20 {
		t.Errorf("list total %d, want 20", n)
	}
}
