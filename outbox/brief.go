package outbox

import (
	"context"
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

// Briefer is a Log that can read the briefs of incident.created events by
// their subjects (the incidents' ids) alone, outside the log: for a
// reader that has read the events already and knows their subjects (the
// threat feed, another instance's creates). A second read of the log by
// positions found each event's row again before its incident's; with two
// instances on PostgreSQL that read was the feed's costliest statement
// (bench/README.md, "what a second server costs beside its groups").
type Briefer interface {
	// Briefs returns, for each subject whose incident the store holds,
	// the Brief of its incident.created event, by subject; a subject it
	// does not hold (an incident deleted since) is left out, and the
	// reader reads that event from the log.
	Briefs(ctx context.Context, subjects []string) (map[string]Brief, error)
}
