package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// DefaultHeartbeat is the default of Config.Heartbeat.
const DefaultHeartbeat = 15 * time.Second

// Config holds a Hub's settings; zero fields get defaults.
type Config struct {
	// Heartbeat is how often an idle stream sends a comment line, which
	// keeps it open through proxies. Default 15 s.
	Heartbeat time.Duration
	// Recheck is how often the hub reads again, from the store, the key
	// and organization behind every open stream (once per key), and ends
	// the streams of keys revoked or expired since and of organizations
	// suspended: every instance sharing the store does, so a revocation
	// anywhere ends the key's streams everywhere within Recheck. Keys
	// revoked through this process are read again at once. At most
	// Heartbeat; default Keys.RecheckEvery() (auth.Service: as often as
	// its key cache reads a key again, 10 s by default).
	Recheck time.Duration
	// Keys reads keys again for the recheck (the auth.Service). Nil: open
	// streams are not rechecked.
	Keys Keys
	// Logger receives failures of the follow and the recheck.
	Logger *slog.Logger
}

// Keys is what the hub needs of authentication; auth.Service has it.
type Keys interface {
	// Verify reads p's key and organization again from the store: nil
	// while the key may be used, Unauthenticated or PaymentRequired once
	// it may not.
	Verify(ctx context.Context, p *auth.Principal) error
	// NotifyRevocations has wake signalled at each revocation or status
	// change made through this process.
	NotifyRevocations(wake chan<- struct{})
	// RecheckEvery is the default of Config.Recheck.
	RecheckEvery() time.Duration
}

// Hub follows the committed outbox and hands each new event to the
// subscriptions it matches. It is an outbox.Notifier: a commit in this
// process wakes it at once.
type Hub struct {
	log       outbox.Log
	cfg       Config
	pollEvery time.Duration
	wake      chan struct{}
	revoked   chan struct{} // a key was revoked or an organization changed

	mu      sync.Mutex
	started bool
	closed  bool  // Close was called: no new subscription
	head    int64 // the position of the last event handed out
	subs    map[*Subscription]struct{}
}

// Subscription receives the live events of one stream.
type Subscription struct {
	filter    func(outbox.Event) bool
	principal *auth.Principal
	// C receives events in position order. It is closed when the hub ends
	// the subscription; Ended says why.
	C chan outbox.Event
	// From is the position live events start after: the stream reads what
	// it needs up to it from the store first.
	From int64
	end  error // written before C is closed
}

// ErrShutdown is why every subscription ends when the hub is closed or
// stops.
var ErrShutdown = errors.New("stream: the server is shutting down")

// Ended tells, once C is closed, why: ErrShutdown; the error of its key
// (setyerr Unauthenticated or PaymentRequired), which the stream shows its
// client; or nil: it fell behind, and the client resumes from the store.
func (s *Subscription) Ended() error { return s.end }

// buffer is how many events a subscription may have pending before it is
// dropped for falling behind.
const buffer = 256

// NewHub returns a hub over log; Run makes it follow.
func NewHub(log outbox.Log, cfg Config) *Hub {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Recheck <= 0 && cfg.Keys != nil {
		cfg.Recheck = cfg.Keys.RecheckEvery()
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = cfg.Heartbeat
	}
	cfg.Recheck = min(cfg.Recheck, cfg.Heartbeat)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{log: log, cfg: cfg, pollEvery: time.Second, wake: make(chan struct{}, 1), revoked: make(chan struct{}, 1),
		subs: map[*Subscription]struct{}{}}
	if cfg.Keys != nil {
		cfg.Keys.NotifyRevocations(h.revoked)
	}
	return h
}

// Start makes the hub take subscriptions, live from the outbox's newest
// event; Run starts it if nothing has. A server that calls Start before it
// serves never answers a stream request 503 for a hub still starting.
func (h *Hub) Start(ctx context.Context) error {
	head, err := h.log.Head(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.head, h.started = head, true
	}
	return nil
}

// Run follows the outbox, and rechecks the keys of open streams, until ctx
// ends; then it ends every stream.
func (h *Hub) Run(ctx context.Context) error {
	if err := h.Start(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	if h.cfg.Keys != nil {
		wg.Go(func() {
			loop.Run(ctx, loop.Loop{Name: "event stream: recheck keys", Every: h.cfg.Recheck, Wake: h.revoked, Log: h.cfg.Logger}, h.recheck)
		})
	}
	loop.Run(ctx, loop.Loop{Name: "event stream", Every: h.pollEvery, Wake: h.wake, Log: h.cfg.Logger}, h.next)
	wg.Wait()
	h.mu.Lock()
	h.started = false
	h.endAll(ErrShutdown)
	h.mu.Unlock()
	return nil
}

// Close ends every open stream at once (each sends its client a last
// comment) and refuses new ones, for a server's graceful shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.endAll(ErrShutdown)
}

// endAll ends every subscription with why; h.mu is held.
func (h *Hub) endAll(why error) {
	for s := range h.subs {
		h.end(s, why)
	}
}

// end ends s with why (nil: it fell behind); h.mu is held.
func (h *Hub) end(s *Subscription, why error) {
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		s.end = why
		close(s.C)
	}
}

// next hands out the events committed after the head.
func (h *Hub) next(ctx context.Context) (bool, error) {
	h.mu.Lock()
	head, idle := h.head, len(h.subs) == 0
	h.mu.Unlock()
	if idle {
		// Nobody listens: nothing to read, not even the head (a query
		// per commit under load); the first subscription reads it.
		return false, nil
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
				h.end(s, nil)
			}
		}
		h.head = ev.Position
	}
	return len(events) == 1000, nil
}

// recheck reads again the key of every open stream, once per key, and
// ends the streams of keys that may no longer be used. A store that fails
// leaves the streams open until a later round can tell.
func (h *Hub) recheck(ctx context.Context) (bool, error) {
	h.mu.Lock()
	keys := map[string]*auth.Principal{}
	for s := range h.subs {
		keys[s.principal.KeyID] = s.principal
	}
	h.mu.Unlock()
	var failed []error
	for id, p := range keys {
		err := h.cfg.Keys.Verify(ctx, p)
		if err == nil {
			continue
		}
		if !setyerr.Is(err, setyerr.Unauthenticated) && !setyerr.Is(err, setyerr.PaymentRequired) {
			failed = append(failed, err)
			continue
		}
		h.mu.Lock()
		for s := range h.subs {
			if s.principal.KeyID == id {
				h.end(s, err)
			}
		}
		h.mu.Unlock()
	}
	return false, errors.Join(failed...)
}

// Notify wakes the hub: events were committed in this process.
func (h *Hub) Notify(context.Context, []outbox.Event) {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// ErrNotRunning is Subscribe's answer while the hub is not running, or
// after it was closed.
var ErrNotRunning = setyerr.E(setyerr.Unavailable, "the event stream is not running")

// Subscribe registers a stream of principal p for the events filter
// matches. Live events come after the returned subscription's From. It
// fails with ErrNotRunning when the hub is not running, or closed, and
// with the store's error when the first subscription of an idle hub (which
// does not follow the log while nobody listens) cannot read the log's
// newest position.
func (h *Hub) Subscribe(ctx context.Context, p *auth.Principal, filter func(outbox.Event) bool) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started || h.closed {
		return nil, ErrNotRunning
	}
	if len(h.subs) == 0 {
		// Live from the log's newest event. Read under the lock: no
		// other subscription, nor the follow, moves the head meanwhile.
		head, err := h.log.Head(ctx)
		if err != nil {
			return nil, err
		}
		h.head = max(h.head, head)
	}
	s := &Subscription{filter: filter, principal: p, C: make(chan outbox.Event, buffer), From: h.head}
	h.subs[s] = struct{}{}
	return s, nil
}

// Unsubscribe ends a subscription.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.end(s, nil)
}
