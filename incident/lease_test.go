package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
)

// sweepCounter is an incident store that tells of each sweep of due
// incidents and of each time the engine asks for its lease.
type sweepCounter struct {
	incident.Store
	swept chan struct{}
	asked chan bool // whether the lease was held
}

func (c *sweepCounter) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	c.swept <- struct{}{}
	return c.Store.DueIncidents(ctx, now, limit)
}

func (c *sweepCounter) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held, err := c.Store.Lease(ctx, name, owner, now, until)
	if name == "incident engine" && until.After(now) {
		c.asked <- held && err == nil
	}
	return held, err
}

// Two engines running over one store: one at a time sweeps the due
// incidents, the one holding the lease, which asks the store again only
// when the lease needs renewing (not at every wake); the other asks once a
// round period and does not sweep. When the holder stops, it gives the
// lease up and the other takes the sweep over at its next round.
func TestOneEngineSweepsAtATime(t *testing.T) {
	w := newWorld(t)
	engine := func() (*incident.Service, *sweepCounter) {
		c := &sweepCounter{Store: w.st.IncidentStore(), swept: make(chan struct{}, 100), asked: make(chan bool, 100)}
		return incident.NewService(c, incident.Config{Now: w.clk.Now, NewID: w.ids, Responders: w.st.ResponderStore()}), c
	}
	wait := func(what string, c <-chan bool) bool {
		t.Helper()
		select {
		case held := <-c:
			return held
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing within 10 s of a wake", what)
			return false
		}
	}
	sweeps := func(c chan struct{}) <-chan bool {
		out := make(chan bool, 1)
		go func() {
			select {
			case <-c:
				out <- true
			case <-time.After(10 * time.Second):
				close(out)
			}
		}()
		return out
	}
	a, countA := engine()
	b, countB := engine()
	ctxA, stopA := context.WithCancel(w.ctx)
	ctxB, stopB := context.WithCancel(w.ctx)
	doneA, doneB := make(chan struct{}), make(chan struct{})
	go func() { defer close(doneA); a.Run(ctxA) }()
	go func() { defer close(doneB); b.Run(ctxB) }()
	defer func() { stopB(); <-doneB }()

	a.Wake()
	if !wait("A's first round", countA.asked) || !wait("A's sweep", sweeps(countA.swept)) {
		t.Fatal("A did not take the free lease and sweep")
	}
	for range 3 {
		w.clk.Advance(time.Second) // a round period: B asks again
		b.Wake()
		if wait("B's round", countB.asked) {
			t.Fatal("B took the lease A holds")
		}
	}
	a.Wake() // 3 s into a 5 s lease: A sweeps without asking
	if !wait("A's next sweep", sweeps(countA.swept)) || len(countA.asked) != 0 || len(countB.swept) != 0 {
		t.Fatalf("A asked %d times more; B swept %d times", len(countA.asked), len(countB.swept))
	}
	w.clk.Advance(time.Second) // past two thirds of the lease: A renews it
	a.Wake()
	if !wait("A's renewal", countA.asked) {
		t.Fatal("A lost its lease renewing it")
	}
	<-countA.swept
	stopA()
	<-doneA // A gave its lease up as it stopped
	w.clk.Advance(time.Second)
	b.Wake()
	if !wait("B's round after A stopped", countB.asked) || !wait("B's sweep", sweeps(countB.swept)) {
		t.Fatal("B did not take the sweep over")
	}
}
