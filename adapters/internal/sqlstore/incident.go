package sqlstore

import (
	"encoding/json"
	"fmt"
	"slices"

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

// ChangeIncident applies UpdateIncident's change to cur, the tenant's
// incident id as read in the update's transaction, and sets its identity
// and idempotency key again after it: change cannot move the incident or
// rekey it. A change that tried has its Encoded JSON (which shows what it
// tried) dropped.
func ChangeIncident(cur *incident.Incident, tenant auth.Tenant, id string, change func(*incident.Incident) (incident.Effects, error)) (incident.Effects, error) {
	idemKey := cur.IdempotencyKey
	effects, err := change(cur)
	if err != nil {
		return incident.Effects{}, err
	}
	if cur.ID != id || cur.IdempotencyKey != idemKey {
		effects.Encoded = nil
	}
	cur.ID, cur.OrgID, cur.Environment, cur.IdempotencyKey = id, tenant.OrgID, tenant.Env, idemKey
	return effects, nil
}

// incidentColumns are the columns of an incident that a change sets, in
// the order IncidentValues gives them; its identity (id, tenant,
// idempotency key, creation) never changes.
const incidentColumns = `category, severity, severity_rank, status, is_drill, sequence, updated_at, doc, tracking, due_at,
	assign_ms, arrive_ms, sla_state, lng, lat, counts_as_threat`

// InsertIncident is the insert of a new incident; IncidentArgs are its
// arguments. The document and the tracking are Dialect.Text's arguments,
// hence their casts.
const InsertIncident = `INSERT INTO incidents (id, org_id, environment, idempotency_key, created_at, ` + incidentColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?)`

// IncidentArgs are the arguments of InsertIncident for inc: its identity
// and values, IncidentValues(d, inc) (derived apart, since a create may
// find the incident stored already and not insert).
func IncidentArgs(d Dialect, inc *incident.Incident, values []any) []any {
	return append([]any{inc.ID, inc.OrgID, inc.Environment, inc.IdempotencyKey, d.Time(inc.CreatedAt.Time)}, values...)
}

// IncidentValues derives the values of incidentColumns from inc: the
// JSON of the document (encoded, the change's Effects.Encoded, when it is
// not nil: the service encoded it already) and of its tracking (as
// d.Text's arguments, which a statement casts to TEXT), the
// severity's rank, the milliseconds from creation to assignment and to
// arrival (nil before them), the SLA's state (nil without an SLA), the
// position, and whether it counts as a threat.
func IncidentValues(d Dialect, inc *incident.Incident, encoded []byte) ([]any, error) {
	doc := encoded
	if doc == nil {
		var err error
		if doc, err = json.Marshal(inc); err != nil {
			return nil, fmt.Errorf("encode incident: %w", err)
		}
	}
	trk, err := json.Marshal(inc.Tracking)
	if err != nil {
		return nil, fmt.Errorf("encode tracking: %w", err)
	}
	var (
		assignMs, arriveMs *int64
		slaState           *string
	)
	if at := inc.AssignedAt(); !at.IsZero() {
		ms := at.Sub(inc.CreatedAt.Time).Milliseconds()
		assignMs = &ms
	}
	if at := inc.ArrivedAt(); !at.IsZero() {
		ms := at.Sub(inc.CreatedAt.Time).Milliseconds()
		arriveMs = &ms
	}
	if inc.SLA != nil {
		state := string(inc.SLA.State)
		slaState = &state
	}
	return []any{inc.Category, inc.Severity, slices.Index(incident.Severities, inc.Severity), inc.Status, inc.IsDrill,
		inc.Sequence, d.Time(inc.UpdatedAt.Time), d.Text(doc), d.Text(trk), d.Time(inc.Tracking.DueAt),
		assignMs, arriveMs, slaState, inc.Location.Coordinates.Lng(), inc.Location.Coordinates.Lat(), inc.CountsAsThreat()}, nil
}
