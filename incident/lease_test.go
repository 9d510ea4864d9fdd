package incident_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
)

// sweepCounter is an incident store that counts each engine's sweeps of
// due incidents and tells of every lease round.
type sweepCounter struct {
	incident.Store
	mu     sync.Mutex
	sweeps int
	rounds chan bool // one per Lease call: whether it was held
}

func (c *sweepCounter) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	c.mu.Lock()
	c.sweeps++
	c.mu.Unlock()
	return c.Store.DueIncidents(ctx, now, limit)
}

func (c *sweepCounter) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held, err := c.Store.Lease(ctx, name, owner, now, until)
	if name == "incident engine" {
		c.rounds <- held && err == nil
	}
	return held, err
}

func (c *sweepCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sweeps
}

// Two engines running over one store: one at a time sweeps the due
// incidents, the one holding the lease; when it stops, it gives the lease
// up and the other takes the sweep over at its next round.
func TestOneEngineSweepsAtATime(t *testing.T) {
	w := newWorld(t)
	engine := func() (*incident.Service, *sweepCounter) {
		c := &sweepCounter{Store: w.st.IncidentStore(), rounds: make(chan bool, 100)}
		return incident.NewService(c, incident.Config{Now: w.clk.Now, NewID: w.ids, Responders: w.st.ResponderStore()}), c
	}
	round := func(what string, e *incident.Service, c *sweepCounter) bool {
		t.Helper()
		e.Wake()
		select {
		case held := <-c.rounds:
			return held
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no round within 10 s of a wake", what)
			return false
		}
	}
	a, countA := engine()
	b, countB := engine()
	ctxA, stopA := context.WithCancel(w.ctx)
	ctxB, stopB := context.WithCancel(w.ctx)
	doneA, doneB := make(chan struct{}), make(chan struct{})
	go func() { defer close(doneA); a.Run(ctxA) }()
	go func() { defer close(doneB); b.Run(ctxB) }()
	defer func() { stopB(); <-doneB }()

	if !round("A's first round", a, countA) || countA.count() != 1 {
		t.Fatalf("A did not take the free lease and sweep (%d sweeps)", countA.count())
	}
	for range 3 {
		if round("B's round", b, countB) {
			t.Fatal("B took the lease A holds")
		}
	}
	if round("A's next round", a, countA); countA.count() != 2 || countB.count() != 0 {
		t.Fatalf("sweeps: A %d, B %d; want A's two only", countA.count(), countB.count())
	}
	stopA()
	<-doneA // A gave its lease up as it stopped
	if !round("B's round after A stopped", b, countB) || countB.count() != 1 {
		t.Fatalf("B did not take the sweep over (%d sweeps)", countB.count())
	}
}
