package outbox

import (
	"encoding/json"

	"github.com/sety-io/sety/clock"
)

// Payload is an event as its readers outside Sety receive it: the body of
// a webhook delivery and the data of a live stream's event (schema
// TimelineEvent). The same event always encodes to the same bytes.
type Payload struct {
	ID        string          `json:"id" example:"evt_a1b2c3d4e5f6g7h8"`
	Type      string          `json:"type" example:"incident.assigned"`
	CreatedAt clock.Time      `json:"created_at"`
	Sequence  int64           `json:"sequence" doc:"Increases by one per incident: drop updates older than the last you applied."`
	Data      json.RawMessage `json:"data" doc:"{\"incident\": Incident} for incident events."`
}

// Payload returns ev as its readers outside Sety receive it.
func (ev Event) Payload() Payload {
	return Payload{ID: ev.ID, Type: ev.Type, CreatedAt: clock.At(ev.CreatedAt), Sequence: ev.Sequence, Data: ev.Data}
}
