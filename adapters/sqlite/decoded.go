package sqlite

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// maxDecoded bounds the decoded incidents kept: at about 3 KB each (the
// row's text and its decoded form), some 12 MB.
const maxDecoded = 4096

// decodedIncidents keeps the decoded form of recently read incidents beside
// the text it was decoded from. Decoding an incident's JSON was a fifth of
// the CPU of get-incident; a read whose row still holds the same text gets a
// copy of the kept value instead. Every read still reads the row, so a
// change by any process, or by a migration, is seen at once: the cache only
// saves the decode, never the read.
type decodedIncidents struct {
	mu   sync.Mutex
	byID map[string]decodedIncident
}

type decodedIncident struct {
	tracking, doc string
	inc           *incident.Incident
}

func newDecodedIncidents() *decodedIncidents {
	return &decodedIncidents{byID: map[string]decodedIncident{}}
}

// scan reads an incident row (selectIncident's columns), decoding it only
// when its text is not the text last decoded for its id.
func (c *decodedIncidents) scan(row rowScanner) (*incident.Incident, error) {
	var (
		id, org, env, trk, doc string
		seq                    int64
	)
	if err := row.Scan(&id, &org, &env, &seq, &trk, &doc); err != nil {
		return nil, err
	}
	c.mu.Lock()
	kept, ok := c.byID[id]
	c.mu.Unlock()
	if ok && kept.doc == doc && kept.tracking == trk && kept.inc.Sequence == seq &&
		kept.inc.OrgID == org && string(kept.inc.Environment) == env {
		return kept.inc.Clone(), nil
	}
	inc, err := decodeIncident(id, org, env, seq, trk, doc)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.byID) >= maxDecoded {
		for old := range c.byID { // any one: reads are spread, not ordered
			delete(c.byID, old)
			break
		}
	}
	c.byID[id] = decodedIncident{tracking: trk, doc: doc, inc: inc.Clone()}
	c.mu.Unlock()
	return inc, nil
}

// scanIncident reads an incident row without the cache: for reads inside a
// write transaction, whose result the caller changes and stores.
func scanIncident(row rowScanner) (*incident.Incident, error) {
	var (
		id, org, env, trk, doc string
		seq                    int64
	)
	if err := row.Scan(&id, &org, &env, &seq, &trk, &doc); err != nil {
		return nil, err
	}
	return decodeIncident(id, org, env, seq, trk, doc)
}

func decodeIncident(id, org, env string, seq int64, trk, doc string) (*incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal([]byte(doc), &inc); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(trk), &inc.Tracking); err != nil {
		return nil, fmt.Errorf("decode tracking of incident %s: %w", id, err)
	}
	inc.ID, inc.OrgID, inc.Environment, inc.Sequence = id, org, auth.Environment(env), seq
	return &inc, nil
}
