package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// SelectIncident is the select of incidents both adapters read: the
// columns of an IncidentRow.
const SelectIncident = `SELECT id, org_id, environment, sequence, tracking, doc FROM incidents`

// IncidentRow is an incidents row as both adapters select it (id, org_id,
// environment, sequence, tracking, doc), before its JSON is decoded.
type IncidentRow struct {
	ID, OrgID, Environment string
	Sequence               int64
	Tracking, Doc          string
}

// ScanIncidentRow reads one such row.
func ScanIncidentRow(row RowScanner) (IncidentRow, error) {
	var r IncidentRow
	err := row.Scan(&r.ID, &r.OrgID, &r.Environment, &r.Sequence, &r.Tracking, &r.Doc)
	return r, err
}

// Decode returns the incident the row holds: the document, its tracking,
// and the identity the columns carry.
func (r IncidentRow) Decode() (*incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal([]byte(r.Doc), &inc); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Tracking), &inc.Tracking); err != nil {
		return nil, fmt.Errorf("decode tracking of incident %s: %w", r.ID, err)
	}
	inc.ID, inc.OrgID, inc.Environment, inc.Sequence = r.ID, r.OrgID, auth.Environment(r.Environment), r.Sequence
	return &inc, nil
}

// ScanIncident reads and decodes one incident row.
func ScanIncident(row RowScanner) (*incident.Incident, error) {
	r, err := ScanIncidentRow(row)
	if err != nil {
		return nil, err
	}
	return r.Decode()
}
