package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sety-io/sety/internal/loop"
)

// sampler measures create→dispatching: up to perWindow incidents created in
// each window are read back delay after their creation, and the delay is the
// timestamp of their dispatching timeline entry minus their created_at (both
// the server's clock). One not yet dispatching is read again later, backing
// off to 30 s; it counts as waiting meanwhile. Delays count in the window in
// which they are observed. Its reads are not part of the workload's figures.
type sampler struct {
	win       *window
	delay     time.Duration
	perWindow int

	mu      sync.Mutex
	offered int // in this window
	queue   []sample
	reads   int
	errors  int
}

type sample struct {
	t       *tenant
	id      string
	created time.Time // client side, for the age of a waiting sample
	checkAt time.Time
	tries   int
}

// offer adds an incident just created for t, unless the window has its share.
func (s *sampler) offer(t *tenant, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offered >= s.perWindow {
		return
	}
	s.offered++
	now := time.Now()
	s.queue = append(s.queue, sample{t: t, id: id, created: now, checkAt: now.Add(s.delay)})
}

// nextWindow starts a window's share afresh and returns the samples still
// waiting, the age of the oldest, and the reads and read errors since the
// last call.
func (s *sampler) nextWindow() (waiting int, oldest time.Duration, reads, errors int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offered = 0
	now := time.Now()
	for _, q := range s.queue {
		if q.tries > 0 {
			waiting++
			oldest = max(oldest, now.Sub(q.created))
		}
	}
	reads, errors, s.reads, s.errors = s.reads, s.errors, 0, 0
	return waiting, oldest, reads, errors
}

// run reads due samples every 100 ms until ctx ends.
func (s *sampler) run(ctx context.Context) {
	every := loop.Loop{Name: "sampler", Every: 100 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
	loop.Run(ctx, every, func(ctx context.Context) (more bool, err error) {
		for _, q := range s.due() {
			s.check(ctx, q)
		}
		return false, nil
	})
}

func (s *sampler) due() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var due, rest []sample
	for _, q := range s.queue {
		if q.checkAt.After(now) {
			rest = append(rest, q)
		} else {
			due = append(due, q)
		}
	}
	s.queue = rest
	return due
}

func (s *sampler) check(ctx context.Context, q sample) {
	status, b, err := q.t.api.do(ctx, http.MethodGet, "/incidents/"+q.id, nil)
	var out struct {
		Incident incidentView `json:"incident"`
	}
	if err == nil && status == http.StatusOK {
		err = json.Unmarshal(b, &out)
	}
	s.mu.Lock()
	s.reads++
	if err != nil || status != http.StatusOK {
		if ctx.Err() == nil {
			s.errors++
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	inc := out.Incident
	if inc.holdsResponder() {
		q.t.active.add(inc.ID, inc.Status == "on_scene")
	}
	for _, t := range inc.Timeline {
		if t.Event == "dispatching" {
			s.win.dispatched(t.Timestamp.Sub(inc.CreatedAt))
			return
		}
	}
	if inc.Status != "created" {
		return // cancelled before dispatch
	}
	q.tries++
	q.checkAt = time.Now().Add(min(s.delay<<q.tries, 30*time.Second))
	s.mu.Lock()
	s.queue = append(s.queue, q)
	s.mu.Unlock()
}
