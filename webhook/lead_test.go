package webhook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/webhook"
)

// leasedQueue is a countedQueue whose store leases the fan-out: held says
// whether the worker gets it, asks records each ask (its until).
type leasedQueue struct {
	*countedQueue
	mu   sync.Mutex
	held bool
	asks []time.Time
}

func (q *leasedQueue) LeaseFanOut(_ context.Context, _ string, _, until time.Time) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asks = append(q.asks, until)
	return q.held, nil
}

func (q *leasedQueue) asked() []time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]time.Time(nil), q.asks...)
}

// runLeased is runGapHarness over a queue that leases the fan-out; stop
// ends the worker and waits for it.
func runLeased(t *testing.T, held bool) (h *gapHarness, q *leasedQueue, stop func()) {
	st := memory.New()
	q = &leasedQueue{countedQueue: &countedQueue{Queue: st.WebhookQueue(), fanOuts: make(chan struct{}, 16)}, held: held}
	h, stop = startGapHarness(t, st, q.countedQueue, q) // its first fan-out asks for no lease (no commit of its own yet)
	if n := len(q.asked()); n != 0 {
		t.Fatalf("the first fan-out asked for the lease %d times, want none", n)
	}
	return h, q, stop
}

// While another instance's worker holds the fan-out's lease, a worker
// woken by its commits fans out at most once per followGap, not per
// fanOutGap: the leader's fan-outs take its events.
func TestAFollowerFansOutOncePerFollowGap(t *testing.T) {
	h, q, _ := runLeased(t, false)
	h.s.Wake()
	w := <-h.waits
	if w.d != webhook.FollowGap {
		t.Fatalf("a follower woken at once after a fan-out waits %v, want %v", w.d, webhook.FollowGap)
	}
	if asks := q.asked(); len(asks) != 1 || !asks[0].After(t0) {
		t.Fatalf("asks for the lease %v, want one, until after now", asks)
	}
	w.ends <- time.Now()
	<-h.q.fanOuts
}

// The leader fans out as a worker without a lease does, and asks for its
// lease once per leadEvery, not at every fan-out; when it stops it gives
// the lease up (until now), so another leads at once.
func TestTheLeaderFansOutPerFanOutGapAndGivesItsLeaseUp(t *testing.T) {
	h, q, stop := runLeased(t, true)
	for range 2 {
		h.s.Wake()
		w := <-h.waits
		if w.d != webhook.FanOutGap {
			t.Fatalf("the leader waits %v, want %v", w.d, webhook.FanOutGap)
		}
		w.ends <- time.Now()
		<-h.q.fanOuts
	}
	if n := len(q.asked()); n != 1 {
		t.Fatalf("%d asks for the lease within leadEvery, want 1", n)
	}
	h.clk.Advance(webhook.LeadEvery)
	h.s.Wake()
	<-h.q.fanOuts // the gap has passed too: at once
	if n := len(q.asked()); n != 2 {
		t.Fatalf("%d asks after leadEvery, want 2", n)
	}
	stop()
	asks := q.asked()
	if len(asks) != 3 || !asks[2].Equal(h.clk.Now()) {
		t.Fatalf("asks %v: want the last, at stop, to give the lease up (until %v)", asks, h.clk.Now())
	}
}
