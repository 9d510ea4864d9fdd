package outbox

//go:generate go tool mockgen -source=event.go -destination=../adapters/mock/notifier.go -package=mock -mock_names=Reader=OutboxReader,Notifier=Notifier

import (
	"context"
	"encoding/json"
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
