package sqlstore

import (
	"time"

	"github.com/sety-io/sety/outbox"
)

// EventColumns are the outbox_events columns ScanEvent reads, in its order.
const EventColumns = `id, org_id, environment, type, subject_id, sequence, data, created_at, position`

// ScanEvent scans an outbox event from EventColumns. The created_at column
// is scanned into a T, the adapter's type for a nullable time, and
// converted with toTime.
func ScanEvent[T any](row RowScanner, toTime func(T) time.Time) (outbox.Event, error) {
	var (
		ev   outbox.Event
		data string
		at   T
	)
	err := row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &at, &ev.Position)
	ev.Data, ev.CreatedAt = []byte(data), toTime(at)
	return ev, err
}
