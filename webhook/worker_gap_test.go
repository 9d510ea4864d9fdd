package webhook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// countedQueue tells, on fanOuts, each FanOut the worker calls.
type countedQueue struct {
	webhook.Queue
	fanOuts chan struct{}
}

func (q *countedQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	n, err := q.Queue.FanOut(ctx, limit, plan)
	q.fanOuts <- struct{}{}
	return n, err
}

// gapHarness runs a worker over a memory store on a clock that stands
// still unless the test moves it, and lets the test end each wait between
// fan-outs (waits) and see each fan-out (q.fanOuts).
type gapHarness struct {
	s     *webhook.Service
	q     *countedQueue
	clk   *clock.Fake
	waits chan gapWait
}

type gapWait struct {
	d    time.Duration
	ends chan time.Time
}

func runGapHarness(t *testing.T) *gapHarness {
	st := memory.New()
	h, _ := startGapHarness(t, st, &countedQueue{Queue: st.WebhookQueue(), fanOuts: make(chan struct{}, 16)}, nil)
	return h
}

// startGapHarness runs a worker of st whose queue is q, or queue if not
// nil (a wrapper of q), after its first fan-out (at start, at once); stop
// ends the worker and waits for it.
func startGapHarness(t *testing.T, st *memory.Store, q *countedQueue, queue webhook.Queue) (h *gapHarness, stop func()) {
	if queue == nil {
		queue = q
	}
	h = &gapHarness{q: q, clk: clock.NewFake(t0), waits: make(chan gapWait, 16)}
	h.s = webhook.NewService(st.WebhookStore(), queue, webhook.Config{Now: h.clk.Now, PollEvery: time.Hour, PurgeEvery: time.Hour})
	webhook.SetAfter(h.s, func(d time.Duration) <-chan time.Time {
		w := gapWait{d, make(chan time.Time, 1)}
		h.waits <- w
		return w.ends
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); h.s.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-ran }) }
	t.Cleanup(stop)
	<-h.q.fanOuts // at start, at once
	return h, stop
}

// Wakes that come within the gap after a fan-out (Notify at every commit)
// are served by one fan-out once the gap has passed, not one each.
func TestWakesWithinTheGapShareOneFanOut(t *testing.T) {
	h := runGapHarness(t)
	h.s.Wake()
	w := <-h.waits
	if w.d <= 0 || w.d > webhook.FanOutGap {
		t.Fatalf("a wake within the gap waits %v, want (0, %v]", w.d, webhook.FanOutGap)
	}
	h.s.Wake()
	h.s.Wake()
	select {
	case <-h.q.fanOuts:
		t.Fatal("a fan-out ran before the gap had passed")
	default:
	}
	w.ends <- time.Now()
	<-h.q.fanOuts // the one fan-out of the three wakes
	select {
	case <-h.q.fanOuts:
		t.Fatal("wakes within one gap ran a second fan-out")
	default:
	}
}

// A wake after a quiet gap fans out at once: no wait.
func TestAWakeAfterTheGapFansOutAtOnce(t *testing.T) {
	h := runGapHarness(t)
	h.clk.Advance(webhook.FanOutGap)
	h.s.Wake()
	<-h.q.fanOuts
	if len(h.waits) != 0 {
		t.Fatalf("a wake after a quiet gap waited %v", (<-h.waits).d)
	}
}
