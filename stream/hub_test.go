package stream

import (
	"context"
	"sync"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

// fakeLog is an outbox.Log of appended events that counts its reads.
type fakeLog struct {
	mu     sync.Mutex
	events []outbox.Event
	reads  int
}

func (l *fakeLog) add(typ string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, outbox.Event{ID: typ, Type: typ, Position: int64(len(l.events) + 1)})
}

func (l *fakeLog) EventsAfter(_ context.Context, after int64, _ outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	var out []outbox.Event
	for _, ev := range l.events {
		if ev.Position > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, max(after, int64(len(l.events))), nil
}

func (l *fakeLog) Head(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	return int64(len(l.events)), nil
}

func (l *fakeLog) readCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// A hub with no stream open reads nothing when woken by commits; the
// first stream reads the log's newest position and gets, live, only the
// events committed after it.
func TestIdleHubReadsNothingAndAStreamStartsAtTheNewestEvent(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{}
	h := NewHub(log, Config{})
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	started := log.readCount()
	for range 3 {
		log.add("incident.created")
		if more, err := h.next(ctx); more || err != nil {
			t.Fatalf("next: %v, %v", more, err)
		}
	}
	if got := log.readCount() - started; got != 0 {
		t.Fatalf("an idle hub read the log %d times for 3 commits, want 0", got)
	}

	sub, err := h.Subscribe(ctx, &auth.Principal{}, func(outbox.Event) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if sub.From != 3 {
		t.Fatalf("From = %d, want 3 (the newest event)", sub.From)
	}
	log.add("incident.cancelled")
	if _, err := h.next(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := <-sub.C; ev.Position != 4 || len(sub.C) != 0 {
		t.Fatalf("live event %d (%d more), want only 4", ev.Position, len(sub.C))
	}

	h.Close()
	if _, err := h.Subscribe(ctx, &auth.Principal{}, func(outbox.Event) bool { return true }); err != ErrNotRunning {
		t.Fatalf("Subscribe after Close: %v, want ErrNotRunning", err)
	}
}
