package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

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
// copy of the kept value instead. A list or GetIncident always reads the
// row, and only its text decides; a get through PeekIncident may answer
// without the read while the incident stamp shows that no process changed
// the row since it was read (stamp.go).
type decodedIncidents struct {
	mu   sync.Mutex
	byID map[string]decodedIncident
	log  stampLog // what says a kept incident is still its row (stamp.go)
	// reader is the stamp checks' reader, whose open read transaction
	// the writer ends before each commit (stamphold.go); nil until set.
	reader atomic.Pointer[stampReader]
}

type decodedIncident struct {
	row  sqlstore.IncidentRow // the text inc was decoded from
	inc  *incident.Incident
	args peekArgs // a get's query arguments for row (peekread.go)
	// at is the incident stamp row was read at, if it still holds: the
	// incident may answer a get without a read (stamp.go). 0: unknown.
	at int64
}

func newDecodedIncidents() *decodedIncidents {
	return &decodedIncidents{byID: map[string]decodedIncident{}}
}

// scan reads an incident row (selectIncident's columns), decoding it only
// when its text is not the text last decoded for its id.
func (c *decodedIncidents) scan(row rowScanner) (*incident.Incident, error) {
	inc, err := c.peek(row)
	if err != nil {
		return nil, err
	}
	return inc.Clone(), nil
}

// peek is scan without the copy: it returns the decoded value kept, which
// nobody may change. While the row's text stays the same (and the value
// stays kept), every peek of it returns the same pointer.
func (c *decodedIncidents) peek(row rowScanner) (*incident.Incident, error) {
	r, err := sqlstore.ScanIncidentRow(row)
	if err != nil {
		return nil, err
	}
	return c.peekRow(r)
}

// kept returns the value kept for id and the row it was decoded from, if
// any.
func (c *decodedIncidents) kept(id string) (decodedIncident, bool) {
	c.mu.Lock()
	kept, ok := c.byID[id]
	c.mu.Unlock()
	return kept, ok
}

// peekRow is peek of a row already read.
func (c *decodedIncidents) peekRow(r sqlstore.IncidentRow) (*incident.Incident, error) {
	return c.peekRowAt(r, 0)
}

// peekRowAt is peekRow of a row read at stamp at (0: not known). The
// incident kept is stamped only if nothing changed since at goes
// unaccounted for (stampable).
func (c *decodedIncidents) peekRowAt(r sqlstore.IncidentRow, at int64) (*incident.Incident, error) {
	c.mu.Lock()
	kept, ok := c.byID[r.ID]
	if ok && kept.row == r {
		if at != 0 && at > kept.at && c.stampable(at) {
			kept.at = at
			c.byID[r.ID] = kept
		}
		c.mu.Unlock()
		return kept.inc, nil
	}
	c.mu.Unlock()
	inc, err := r.Decode()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.byID[r.ID]; !ok && len(c.byID) >= maxDecoded {
		for old := range c.byID { // any one: reads are spread, not ordered
			delete(c.byID, old)
			break
		}
	}
	if at != 0 && !c.stampable(at) {
		at = 0
	}
	c.byID[r.ID] = decodedIncident{row: r, inc: inc, args: peekArgsOf(r), at: at}
	c.mu.Unlock()
	return inc, nil
}

// PeekIncident is incident.SharedReader's: GetIncident's read, answered
// with the decoded value kept for the row's text instead of a copy of it:
// without reading the row when a shared check of the incident stamp
// shows it unchanged since it was read (stamp.go), else read on the
// connections kept for it (peekread.go).
func (s *incidentStore) PeekIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	org, env := tenant.OrgID, string(tenant.Env)
	if kept, ok := s.db.stamps.fresh(id, org, env); ok {
		return kept.inc, nil
	}
	var inc *incident.Incident
	kept, ok := s.db.decoded.kept(id)
	r, at, err := s.db.peek.read(ctx, id, org, env, kept, ok)
	switch {
	case err == nil && ok && r == kept.row: // the texts kept, unchanged: compared by pointer
		inc, err = s.db.decoded.peekRowAt(kept.row, at)
	case err == nil:
		inc, err = s.db.decoded.peekRowAt(r, at)
	}
	inc, err = sqlstore.Found(inc, err, sql.ErrNoRows, incident.ErrNotFound)
	return inc, translate(err)
}

var _ incident.SharedReader = (*incidentStore)(nil)
