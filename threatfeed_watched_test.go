package sety

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// On a log that says when it moved (PostgreSQL's), the feed's catch-ups
// read what the store has positioned, running no sequencer, but once a
// second; a create remembered here that was not positioned yet is
// applied from memory when a later read brings it, never read twice nor
// from its data; and the feed is woken by the log, not by this process's
// commits (whose events the webhook fan-out positions).
func TestThreatFeedOnAWatchedLogReadsWhatIsPositioned(t *testing.T) {
	ctx := context.Background()
	st, live := memoryWithOrg(t)
	engine := threat.NewEngine(threat.Config{})
	log := &watchedLog{filtersSeen: filtersSeen{Log: st.EventLog()}}
	f := newThreatFollower(engine, log)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), Observe: f.remember})
	create := func() {
		t.Helper()
		req := incident.CreateIncidentRequest{Category: incident.Vehicle, Location: incident.Location{Coordinates: geo.NewPoint(6.45, 3.39)}}
		if _, _, err := svc.Create(ctx, live, req); err != nil {
			t.Fatal(err)
		}
	}
	follow := func(wantThrough int64) {
		t.Helper()
		if more, err := f.follow(ctx); more || err != nil {
			t.Fatalf("catch-up: %v, %v", more, err)
		}
		if got := log.filters[len(log.filters)-1]; got.Through != wantThrough || got.Brief {
			t.Fatalf("read %+v, want envelopes through %d", got, wantThrough)
		}
	}

	follow(0) // the first sequences
	before, err := st.EventLog().Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	create()
	f.Notify(ctx, nil)
	select {
	case <-f.wake:
		t.Fatal("a commit here woke the feed of a watched log")
	default:
	}
	// The create's events are committed but not positioned yet.
	log.holding, log.positioned = true, before
	follow(math.MaxInt64)
	if engine.Len() != 0 || len(f.created.byID) != 1 {
		t.Fatalf("%d reports, %d remembered; want 0 and 1 (not positioned yet)", engine.Len(), len(f.created.byID))
	}
	log.holding = false
	f.moved()
	select {
	case <-f.wake:
	default:
		t.Fatal("the log's move did not wake the feed")
	}
	follow(math.MaxInt64)
	if engine.Len() != 1 || len(f.created.byID) != 0 {
		t.Fatalf("%d reports, %d remembered; want 1 and 0", engine.Len(), len(f.created.byID))
	}

	// A second later, a catch-up sequences again: the safety net should
	// no fan-out position this process's events.
	create()
	now = now.Add(sequenceEvery)
	follow(0)
	follow(math.MaxInt64)
	if engine.Len() != 2 || len(f.created.byID) != 0 {
		t.Fatalf("%d reports, %d remembered; want 2 and 0", engine.Len(), len(f.created.byID))
	}
	for _, filter := range log.filters {
		if filter.Brief {
			t.Fatalf("reads %+v: a create remembered here was read with its data", log.filters)
		}
	}

	// SyncThreat's catch-up always sequences.
	if _, err := f.catchUp(ctx); err != nil || log.filters[len(log.filters)-1].Through != 0 {
		t.Fatalf("catchUp read %+v, %v; want a read that sequences", log.filters[len(log.filters)-1], err)
	}
}

// watchedLog is a log that says when it moved (outbox.Watcher) and whose
// reads of what is positioned (Filter.Through) see at most positioned,
// as PostgreSQL's before its sequencer's run.
type watchedLog struct {
	filtersSeen
	holding    bool
	positioned int64 // while holding
}

func (l *watchedLog) Watch(ctx context.Context, moved func()) error {
	<-ctx.Done()
	return ctx.Err()
}

func (l *watchedLog) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	if f.Through == math.MaxInt64 && l.holding {
		l.filters, l.afters = append(l.filters, f), append(l.afters, after)
		if l.positioned <= after {
			return nil, after, nil
		}
		f.Through = l.positioned
		return l.Log.EventsAfter(ctx, after, f, limit)
	}
	return l.filtersSeen.EventsAfter(ctx, after, f, limit)
}
