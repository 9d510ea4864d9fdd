package stream

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/outbox"
)

// Hub follows the committed outbox and hands each new event to the
// subscriptions it matches. It is an outbox.Notifier: a commit in this
// process wakes it at once.
type Hub struct {
	log       outbox.Log
	logger    *slog.Logger
	pollEvery time.Duration
	wake      chan struct{}

	mu      sync.Mutex
	started bool
	head    int64 // the position of the last event handed out
	subs    map[*Subscription]struct{}
}

// Subscription receives the live events of one stream.
type Subscription struct {
	filter func(outbox.Event) bool
	// C receives events in position order. It is closed when the hub drops
	// the subscription because it fell behind (the client resumes from the
	// store) or stops.
	C chan outbox.Event
	// From is the position live events start after: the stream reads what
	// it needs up to it from the store first.
	From int64
}

// buffer is how many events a subscription may have pending before it is
// dropped for falling behind.
const buffer = 256

// NewHub returns a hub over log; Run makes it follow.
func NewHub(log outbox.Log, logger *slog.Logger) *Hub {
	return &Hub{log: log, logger: logger, pollEvery: time.Second, wake: make(chan struct{}, 1), subs: map[*Subscription]struct{}{}}
}

// Run follows the outbox from its newest event until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	head, err := h.log.Head(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.head, h.started = head, true
	h.mu.Unlock()
	loop.Run(ctx, loop.Loop{Name: "event stream", Every: h.pollEvery, Wake: h.wake, Log: h.logger}, h.next)
	h.mu.Lock()
	h.started = false
	for s := range h.subs {
		delete(h.subs, s)
		close(s.C)
	}
	h.mu.Unlock()
	return nil
}

// next hands out the events committed after the head.
func (h *Hub) next(ctx context.Context) (bool, error) {
	h.mu.Lock()
	head, idle := h.head, len(h.subs) == 0
	h.mu.Unlock()
	if idle {
		// Nobody listens: move the head without reading the events.
		latest, err := h.log.Head(ctx)
		h.mu.Lock()
		if err == nil && len(h.subs) == 0 {
			h.head = max(h.head, latest)
		}
		h.mu.Unlock()
		return false, err
	}
	events, _, err := h.log.EventsAfter(ctx, head, outbox.Filter{}, 1000)
	if err != nil || len(events) == 0 {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range events {
		for s := range h.subs {
			if !s.filter(ev) {
				continue
			}
			select {
			case s.C <- ev:
			default: // fallen behind: drop it; the client resumes from the store
				delete(h.subs, s)
				close(s.C)
			}
		}
		h.head = ev.Position
	}
	return len(events) == 1000, nil
}

// Notify wakes the hub: events were committed in this process.
func (h *Hub) Notify(context.Context, []outbox.Event) {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Subscribe registers a stream for the events filter matches. Live events
// come after the returned subscription's From; false when the hub is not
// running.
func (h *Hub) Subscribe(filter func(outbox.Event) bool) (*Subscription, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		return nil, false
	}
	s := &Subscription{filter: filter, C: make(chan outbox.Event, buffer), From: h.head}
	h.subs[s] = struct{}{}
	return s, true
}

// Unsubscribe ends a subscription.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}
