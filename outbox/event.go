package outbox

//go:generate go tool mockgen -source=event.go -destination=../adapters/mock/notifier.go -package=mock -mock_names=Reader=OutboxReader,Log=OutboxLog,Notifier=Notifier

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Event is one committed state change, as stored in the outbox and as sent to
// webhook receivers (schema TimelineEvent):
//
//	{"id": "evt_...", "type": "incident.assigned", "created_at": ..., "sequence": 3, "data": {"incident": {...}}}
type Event struct {
	ID          string          // "evt_..."
	OrgID       string          // the organization that owns the subject
	Environment string          // "live" or "test"
	Type        string          // "incident.created", "access.checked_in", ...
	SubjectID   string          // the changed object: an incident id, an access log id...
	Sequence    int64           // increases by one per subject, starting at 1
	Data        json.RawMessage // the payload's "data" object, a snapshot taken at commit
	CreatedAt   time.Time
	// Position is the event's place in the store's log, set by the store
	// (0 before): an event gets its position once committed, after every
	// event already in the log (a store may give it at commit, or order
	// committed events shortly after), and each subject's events keep
	// their sequence order. It is the live event stream's event id, and
	// what a reader that follows the outbox resumes from.
	Position int64
	// Brief, set only by a read with Filter.Brief, is an incident.created
	// event's brief in place of its Data (nil then); nil otherwise.
	Brief *Brief
}

// Log is the committed outbox in commit order, for the readers that follow
// it in every instance: the threat engine, and the live event stream.
type Log interface {
	// EventsAfter returns up to limit committed events whose position is
	// greater than after and that match f, in position order, with their
	// Position set, and next: the position it has looked up to, matching
	// or not, which the reader resumes after (so events f leaves out are
	// not read again). Every event committed before the call is in the
	// log. An event never gets a lower position than one already in the
	// log, so a reader that resumes after next misses nothing and sees
	// nothing twice.
	EventsAfter(ctx context.Context, after int64, f Filter, limit int) (events []Event, next int64, err error)
	// Head returns the position of the newest event in the log, 0 when
	// none: at or above every position a reader was given. (A store that
	// orders committed events after commit may leave out of it those it
	// is ordering at that moment: they come after it.)
	Head(ctx context.Context) (int64, error)
}

// Watcher is a Log that can say when its head may have moved, whichever
// instance sharing the store moved it, so readers need not wait for their
// next poll to see another instance's events. It is optional: readers poll
// anyway, and a commit in their own process wakes them (Notifier).
type Watcher interface {
	// Watch calls moved whenever events may have joined the log, until ctx
	// ends; it returns ctx's error. moved must return quickly.
	Watch(ctx context.Context, moved func()) error
}

// Filter selects events of the Log. A zero field matches everything.
type Filter struct {
	OrgID       string
	Environment string
	TypePrefix  string   // "incident." for incident events
	Types       []string // these types only (a reader that needs few types reads only those)
	// Envelopes leaves the events' Data out (nil): for a reader that
	// needs the data of few of the events it reads, or none (a copy of
	// every payload was most of the threat feed's cost per create). It
	// selects nothing.
	Envelopes bool
	// Bare, with Envelopes, is for a reader that recognizes most of what
	// it reads by id (the threat feed, this process's creates): a store
	// may leave SubjectID and Sequence out too (empty and 0), so an event
	// is its id, tenant, type, time and position. A store that keeps its log
	// apart from its events then reads the log alone, not an event's row
	// per event. A store may fill them anyway. It selects nothing.
	Bare bool
	// Brief lets a store answer an incident.created event with its
	// Brief set and its Data nil: the category, severity, location's
	// coordinates, is_drill and created_at, which a create sets once and
	// no change of the incident alters, with the snapshot's values; what
	// the threat feed reads of another instance's creates. A store may
	// answer the full data instead, and answers it for every other event.
	// It selects nothing.
	Brief bool
	// Through, when above 0, bounds the read to the events at or before
	// it, and next to it: for a reader reading again a part of the log it
	// has read already (the threat feed reads the data of a few of the
	// events it read without). Every event at or before a position a
	// reader was given is in the log, so a store that orders committed
	// events after commit need not order the newer ones first: such a
	// read costs no run of its sequencer. It selects nothing in Match.
	Through int64
	// Positions, when set, selects only the events at these positions,
	// in ascending order: for a reader reading again a few of the events
	// it has read (the threat feed reads the data of another instance's
	// creates, interleaved with this one's, whose data it has: a read of
	// every event from the first of them to the last read both).
	Positions []int64
}

// Match reports whether ev passes f.
func (f Filter) Match(ev Event) bool {
	return (f.OrgID == "" || ev.OrgID == f.OrgID) && (f.Environment == "" || ev.Environment == f.Environment) &&
		strings.HasPrefix(ev.Type, f.TypePrefix) && (len(f.Types) == 0 || slices.Contains(f.Types, ev.Type)) &&
		(len(f.Positions) == 0 || slices.Contains(f.Positions, ev.Position))
}

// Reader lists committed events that have not been published yet, oldest
// first. Tests are its consumers: the conformance suite checks with it that
// every adapter records events with the state change that caused them, and
// the memory adapter offers it to tests of application code. The webhook
// queue reads the outbox itself, inside its fan-out transaction.
type Reader interface {
	// PendingEvents returns up to limit unpublished events, oldest first.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
}

// Notifier hears of events after their transaction committed: the webhook
// worker, to wake early, and the threat engine's feed. Losing a notification
// loses nothing, because the events are in the store.
type Notifier interface {
	Notify(ctx context.Context, events []Event)
}

// Notifiers tells each of its members, in order.
type Notifiers []Notifier

// Notify tells every member of events.
func (ns Notifiers) Notify(ctx context.Context, events []Event) {
	for _, n := range ns {
		n.Notify(ctx, events)
	}
}
