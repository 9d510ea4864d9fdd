package sqlstore

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

// Incidents is the part of incident.Store (and threat.Source) that is the
// same SQL on both engines. Each adapter adds what is not: the idempotent
// create, the list (each engine reads its indexes its own way), and the
// reads of the dispatch queue; and it gives the two hooks below.
type Incidents struct {
	d Driver
	// scan reads an incident row outside a transaction (SelectIncident's
	// columns): SQLite answers a row whose text it decoded lately from
	// what it kept.
	scan func(RowScanner) (*incident.Incident, error)
	// applyEffects claims and releases responders for an incident change,
	// in the incident's transaction: each engine keeps its own spatial
	// index of the available ones in step.
	applyEffects func(ctx context.Context, tx Tx, tenant auth.Tenant, incidentID string, e incident.Effects) error
}

// NewIncidents returns the shared part of the incident store on d, with
// the engine's hooks (see Incidents).
func NewIncidents(d Driver, scan func(RowScanner) (*incident.Incident, error),
	applyEffects func(ctx context.Context, tx Tx, tenant auth.Tenant, incidentID string, e incident.Effects) error) Incidents {
	return Incidents{d: d, scan: scan, applyEffects: applyEffects}
}

// ByIdempotencyKey reads the incident of inc's tenant with inc's
// idempotency key through q.
func ByIdempotencyKey(ctx context.Context, q Querier, inc *incident.Incident) (*incident.Incident, error) {
	return ScanIncident(q.QueryRow(ctx, SelectIncident+` WHERE org_id = ? AND environment = ? AND idempotency_key = ?`,
		inc.OrgID, inc.Environment, *inc.IdempotencyKey))
}

// Created is CreateIncident's answer once its transaction is done: the
// incident stored before under inc's idempotency key, if there was one,
// or inc itself, created (as the port says: what is stored is the row,
// which no change of inc reaches, so no copy is made).
func Created(existing, inc *incident.Incident) (*incident.Incident, bool, error) {
	if existing != nil {
		return existing, false, nil
	}
	return inc, true, nil
}

func (s Incidents) GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	inc, err := s.scan(s.d.Read().QueryRow(ctx, SelectIncident+ByTenantID, id, tenant.OrgID, tenant.Env))
	inc, err = Found(inc, err, ErrNoRows, incident.ErrNotFound)
	return inc, s.d.Translate(err)
}

var incidentTable = Table[*incident.Incident]{Sel: SelectIncident, Scan: ScanIncident, NotFound: incident.ErrNotFound}

// UpdateIncident locks the incident's row (see Table.Update) before it
// reads it: updates of one incident from every instance take turns, and
// each change sees the latest committed state. Claims and releases of
// responders happen in the same transaction (the applyEffects hook).
func (s Incidents) UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Incident) (incident.Effects, error)) (*incident.Incident, error) {
	return incidentTable.Update(ctx, s.d, tenant, id, func(tx Tx, cur *incident.Incident) error {
		effects, err := ChangeIncident(cur, tenant, id, change)
		if err != nil {
			return err
		}
		cols, err := IncidentValues(tx, cur, effects.Encoded)
		if err != nil {
			return err
		}
		tx.Later(`UPDATE incidents SET category = ?, severity = ?, severity_rank = ?, status = ?, is_drill = ?, sequence = ?,
			updated_at = ?, doc = CAST(? AS TEXT), tracking = CAST(? AS TEXT), due_at = ?, assign_ms = ?, arrive_ms = ?, sla_state = ?, lng = ?, lat = ?,
			counts_as_threat = ? WHERE id = ?`, append(cols, id)...)
		if err := s.applyEffects(ctx, tx, tenant, id, effects); err != nil {
			return err
		}
		tx.InsertEvents(effects.Events)
		return nil
	})
}

// SelectDue lists the active incidents due at the first argument, up to
// the second (SQLite reads it through incidents_due).
const SelectDue = SelectIncident + ` WHERE due_at IS NOT NULL AND due_at <= ?
	AND status NOT IN ('resolved', 'cancelled') ORDER BY due_at, id LIMIT ?`

func (s Incidents) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	due, err := QueryAll(ctx, s.d.Read(), s.scan, SelectDue, s.d.Time(now), limit)
	return due, s.d.Translate(err)
}

// ReadThreatReports streams the reports query selects (created_at, lng,
// lat, category, severity) of the incidents created since since (the
// query's one argument). Each engine writes the query for its indexes
// (both read each organization's incidents through the tenant's index),
// and runs it in the snapshot it reads its checkpoint in: how an engine's
// log says what that snapshot holds is its own (see EventLog).
func ReadThreatReports(ctx context.Context, q Querier, query string, since any, fn func(threat.Report) error) error {
	rows, err := q.Query(ctx, query, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			at       Time
			lng, lat float64
			r        threat.Report
		)
		if err := rows.Scan(&at, &lng, &lat, &r.Category, &r.Severity); err != nil {
			return err
		}
		r.At, r.Location = at.Time, geo.Point{lng, lat}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
