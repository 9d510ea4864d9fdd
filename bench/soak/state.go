package main

import (
	"math/rand/v2"
	"sync"
)

// ring keeps the last ids added.
type ring struct {
	mu  sync.Mutex
	ids []string
	n   int // total added
}

const ringSize = 2000

func (r *ring) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) < ringSize {
		r.ids = append(r.ids, id)
	} else {
		r.ids[r.n%ringSize] = id
	}
	r.n++
}

// pick returns a random id among the newest n.
func (r *ring) pick(rng *rand.Rand, n int) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return "", false
	}
	n = min(n, len(r.ids))
	back := 1 + rng.IntN(n) // 1 is the newest
	return r.ids[(r.n-back)%ringSize], true
}

// pool is the set of incidents known to hold a responder, each with
// whether the soak already advanced it to on_scene. An incident taken for a
// resolve, or cancelled, is done: an answer read before that (a list or get
// still in flight) does not bring it back, which would only make a 409.
type pool struct {
	mu   sync.Mutex
	ids  map[string]bool
	done map[string]bool
}

func newPool() *pool { return &pool{ids: map[string]bool{}, done: map[string]bool{}} }

// add remembers an incident seen holding a responder; onScene says it
// needs no on_scene step.
func (p *pool) add(id string, onScene bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done[id] {
		return
	}
	if advanced, found := p.ids[id]; !found || onScene && !advanced {
		p.ids[id] = onScene
	}
}

// put returns an incident taken for a step that left it holding its responder.
func (p *pool) put(id string, advanced bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.done, id)
	p.ids[id] = advanced
}

// remove marks an incident done (cancelled).
func (p *pool) remove(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ids, id)
	p.done[id] = true
}

// take removes and returns any member, marking it done.
func (p *pool) take() (id string, advanced, found bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, advanced := range p.ids {
		delete(p.ids, id)
		p.done[id] = true
		return id, advanced, true
	}
	return "", false, false
}

// queue is a bounded FIFO of ids: the oldest are dropped past its size.
type queue struct {
	mu  sync.Mutex
	ids []string
}

const queueSize = 500

func (q *queue) push(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ids) >= queueSize {
		q.ids = q.ids[1:]
	}
	q.ids = append(q.ids, id)
}

func (q *queue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ids) == 0 {
		return "", false
	}
	id := q.ids[0]
	q.ids = q.ids[1:]
	return id, true
}
