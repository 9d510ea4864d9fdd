package sety

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/sety-io/sety/outbox"
)

// ErrClosed is what Run and Follow return once Close was called.
var ErrClosed = errors.New("sety: closed")

// lifecycle tracks Run and the followers, so Close can stop and wait for
// every goroutine Sety started.
type lifecycle struct {
	mu      sync.Mutex
	ran     bool // Run was called
	closed  bool // Close was called
	stop    context.Context
	close   context.CancelFunc // ends stop: Run and every Follow end
	workers sync.WaitGroup
}

func newLifecycle() *lifecycle {
	stop, closeFn := context.WithCancel(context.Background())
	return &lifecycle{stop: stop, close: closeFn}
}

// enter registers a worker (Run, a Follow) unless Sety is closed; the
// returned context ends with ctx or at Close, and done must be called when
// the worker has returned.
func (l *lifecycle) enter(ctx context.Context) (_ context.Context, done func(), _ error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, ErrClosed
	}
	l.workers.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(l.stop, cancel)
	return ctx, func() { unhook(); cancel(); l.workers.Done() }, nil
}

// Run does Sety's background work until ctx ends or Close is called. It
// first loads the threat engine from the store's incident history and
// starts the event stream at the event log's head (Ready is closed once it
// has), then runs every worker: dispatch, the sandbox
// simulator and SLA clocks, webhook delivery, the event stream, the API
// keys' last-use record, and the sweep that gives back rate-limit leases
// this instance no longer uses (all of them when it stops). Without it
// incidents stay where their last request left them and events wait in the
// outbox: a later Run (of another Sety over the same store) catches up,
// from the store.
//
// It returns nil when ctx ends or Close is called, even during the load
// (a shutdown is not an error); an error when the history or the event
// log's head cannot be read, when Run was called before, or after Close.
func (s *Sety) Run(ctx context.Context) error {
	s.life.mu.Lock()
	ran := s.life.ran
	s.life.ran = true
	s.life.mu.Unlock()
	if ran {
		return errors.New("sety: Run was called twice: run one Sety's workers once (another instance may share the store)")
	}
	ctx, done, err := s.life.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := s.threat.load(ctx, s.stores.ThreatSource()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("sety: load threat intelligence: %w", err)
	}
	if err := s.hub.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("sety: start the event stream: %w", err)
	}
	close(s.ready)
	var wg sync.WaitGroup
	wg.Go(func() { s.threat.run(ctx, s.log) })
	wg.Go(func() {
		if err := s.hub.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "event stream", "error", err)
		}
	})
	if w, ok := s.stores.EventLog().(outbox.Watcher); ok {
		// Another instance's events wake the readers at once, not at
		// their next poll.
		wg.Go(func() {
			_ = w.Watch(ctx, func() {
				s.hub.Notify(ctx, nil)
				s.threat.moved()
			})
		})
	}
	wg.Go(func() { s.Webhooks.Run(ctx) })
	wg.Go(func() { s.Auth.Run(ctx) })
	wg.Go(func() { s.Incidents.Run(ctx) })
	wg.Wait()
	return nil
}

// Close stops Run and every Follow, waits until each has returned (a
// webhook attempt under way is cut short and left to its lease; the last
// key use is recorded), and ends the open event streams. Afterwards no
// goroutine of Sety's is left, Run and Follow return ErrClosed, and the
// store may be closed. Calls to the services still work (they run in the
// caller's goroutine), as long as the store is open.
//
// Shut a host down in this order: stop serving HTTP (http.Server.Shutdown,
// so no request is mid-way; with CloseStreams registered on the server, so
// open event streams do not hold it up), then Close Sety, then close the
// store. Close
// may be called more than once and from several goroutines; every call
// returns once everything has stopped.
func (s *Sety) Close() error {
	s.life.mu.Lock()
	s.life.closed = true
	s.life.close()
	s.life.mu.Unlock()
	s.life.workers.Wait()
	return nil
}

// CloseStreams ends every open event stream at once, each with a last
// comment line saying the server is shutting down, and answers new stream
// requests 503 from then on. A server calls it when its graceful shutdown
// begins, before Close: http.Server.Shutdown waits for every open request,
// and a stream never finishes by itself:
//
//	srv.RegisterOnShutdown(s.CloseStreams)
func (s *Sety) CloseStreams() { s.hub.Close() }

// isNil reports whether stores is nil or a typed nil (a nil *sqlite.DB in
// the interface), which would fail at the first call.
func isNil(stores Stores) bool {
	if stores == nil {
		return true
	}
	v := reflect.ValueOf(stores)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}
