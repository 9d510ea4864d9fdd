package sqlite

import (
	"sync"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// maxDecoded bounds the decoded incidents kept: at about 3 KB each (the
// row's text and its decoded form), some 12 MB.
const maxDecoded = 4096

// decodedIncidents keeps the decoded form of recently read incidents beside
// the text it was decoded from. Decoding an incident's JSON was a fifth of
// the CPU of get-incident; a read whose row still holds the same text gets a
// copy of the kept value instead.
//
// A get by id may also skip the read: when the database's WAL-index stamp
// (walstamp.go) is the one taken just before the kept row was read, no
// transaction of any process has committed since, so the row is unchanged.
// Reading the row was most of what a get cost. Any commit anywhere changes
// the stamp, so the next get of each incident reads its row again: the
// cache never answers with a value older than the last commit.
type decodedIncidents struct {
	mu   sync.Mutex
	byID map[string]decodedIncident
}

type decodedIncident struct {
	row sqlstore.IncidentRow // the text inc was decoded from
	inc *incident.Incident
	// stamp, when stamped, was read before the read of row began: row is
	// current for as long as the database's stamp is still this one.
	stamp   walStamp
	stamped bool
}

func newDecodedIncidents() *decodedIncidents {
	return &decodedIncidents{byID: map[string]decodedIncident{}}
}

// scan reads an incident row (selectIncident's columns), decoding it only
// when its text is not the text last decoded for its id.
func (c *decodedIncidents) scan(row rowScanner) (*incident.Incident, error) {
	return c.scanSince(row, walStamp{}, false)
}

// unchanged returns a copy of the incident id of tenant as last read, when
// the database's stamp is still now, the stamp taken before that read; nil
// when it must be read.
func (c *decodedIncidents) unchanged(id string, tenant auth.Tenant, now walStamp) *incident.Incident {
	c.mu.Lock()
	kept, ok := c.byID[id]
	c.mu.Unlock()
	if !ok || !kept.stamped || kept.stamp != now || kept.inc.Tenant() != tenant {
		return nil // another tenant's id is read, and not found, the usual way
	}
	return kept.inc.Clone()
}

// scanSince is scan for a read that began after stamp was taken (stamped
// false: no stamp): the incident kept may answer later gets while the
// database's stamp is still that one.
func (c *decodedIncidents) scanSince(row rowScanner, stamp walStamp, stamped bool) (*incident.Incident, error) {
	r, err := sqlstore.ScanIncidentRow(row)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	kept, ok := c.byID[r.ID]
	c.mu.Unlock()
	var inc *incident.Incident
	if ok && kept.row == r {
		inc = kept.inc
		if !stamped && kept.stamped {
			// The row is the one read at the kept stamp, so that stamp
			// still vouches for it: a list or a due scan that reads an
			// unchanged incident leaves its get shortcut in place.
			stamp, stamped = kept.stamp, true
		}
	} else if inc, err = r.Decode(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.byID[r.ID]; !ok && len(c.byID) >= maxDecoded {
		for old := range c.byID { // any one: reads are spread, not ordered
			delete(c.byID, old)
			break
		}
	}
	c.byID[r.ID] = decodedIncident{row: r, inc: inc, stamp: stamp, stamped: stamped}
	c.mu.Unlock()
	return inc.Clone(), nil
}

// scanIncident reads an incident row without the cache: for reads inside a
// write transaction, whose result the caller changes and stores.
var scanIncident = sqlstore.ScanIncident
