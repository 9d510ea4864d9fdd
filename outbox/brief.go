package outbox

import (
	"time"

	"github.com/sety-io/sety/geo"
)

// Brief is what an incident.created event fixes of its incident and no
// later change alters, typed: what the threat feed reads of another
// instance's creates. A store answering a read with Filter.Brief may set
// it on such an event instead of the data: the feed used to get it as
// JSON the store had written from these very columns, then decoded it
// again (a third of its cost per create with two instances,
// bench/README.md, "what a second server's feed reads, typed").
type Brief struct {
	Category  string    // the snapshot's incident.category
	Severity  string    // incident.severity
	Location  geo.Point // incident.location.coordinates
	IsDrill   bool      // incident.is_drill
	CreatedAt time.Time // incident.created_at
}
