package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

type incidentStore DB

const selectIncident = sqlstore.SelectIncident

var incidentTable = table[*incident.Incident]{sel: selectIncident, scan: scanIncident, notFound: incident.ErrNotFound}

func (s *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
	cols, err := columnsOf(inc)
	if err != nil {
		return nil, false, err
	}
	var existing *incident.Incident
	err = (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if inc.IdempotencyKey != nil {
			found, err := byIdempotencyKey(ctx, tx, inc)
			if err == nil {
				existing = found
				return nil
			}
			if !errors.Is(err, errNoRows) {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO incidents
			(id, org_id, environment, idempotency_key, created_at, category, severity, severity_rank, status, is_drill,
			 sequence, updated_at, doc, tracking, due_at, assign_ms, arrive_ms, sla_state, lng, lat, counts_as_threat)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{inc.ID, inc.OrgID, inc.Environment, inc.IdempotencyKey, inc.CreatedAt.UnixMilli()}, cols...)...)
		if err != nil {
			return err
		}
		if err := applyEffects(ctx, tx, inc.Tenant(), inc.ID, effects); err != nil {
			return err
		}
		return insertEvents(ctx, tx, effects.Events)
	})
	if err != nil && inc.IdempotencyKey != nil && isUniqueViolation(err) {
		// Another process sharing the file won the race for this key between
		// our look-up and insert; its incident is the answer.
		if found, ferr := byIdempotencyKey(ctx, s.read, inc); ferr == nil {
			return found, false, nil
		}
	}
	if err != nil {
		return nil, false, translate(err)
	}
	if existing != nil {
		return existing, false, nil
	}
	return inc.Clone(), true, nil
}

// byIdempotencyKey reads the incident of inc's tenant with inc's
// idempotency key, through the read pool or a transaction.
func byIdempotencyKey(ctx context.Context, q querier, inc *incident.Incident) (*incident.Incident, error) {
	return scanIncident(q.QueryRowContext(ctx, selectIncident+` WHERE org_id = ? AND environment = ? AND idempotency_key = ?`,
		inc.OrgID, inc.Environment, *inc.IdempotencyKey))
}

func (s *incidentStore) GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	inc, err := s.decoded.scan(s.read.QueryRowContext(ctx, selectIncident+byTenantID, id, tenant.OrgID, tenant.Env))
	if errors.Is(err, errNoRows) {
		return nil, incident.ErrNotFound
	}
	return inc, translate(err)
}

func (s *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	// matching is every condition but the status's.
	matching := list{}
	matching.Tenant(tenant)
	inList(&matching, "category", f.Categories)
	inList(&matching, "severity", f.Severities)
	if !f.From.IsZero() {
		matching.And(`created_at >= ?`, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		matching.And(`created_at <= ?`, f.To.UnixMilli())
	}
	all := matching
	inList(&all, "status", f.Statuses)

	l := list{Sel: selectIncident, Order: `created_at DESC, id DESC`, Conds: all.Conds, Args: all.Args}
	if len(f.Statuses) > 1 {
		// The page from one ordered range of the status index per status,
		// each cut at the page's end: the few active incidents among
		// thousands cost a page per status, not a walk of the history.
		parts, args := make([]string, len(f.Statuses)), []any{}
		for i, st := range f.Statuses {
			parts[i] = `SELECT rowid FROM (SELECT rowid FROM incidents INDEXED BY incidents_tenant_status` + matching.Where() +
				` AND status = ? ORDER BY created_at DESC, id DESC LIMIT ?)`
			args = append(append(args, matching.Args...), string(st), f.Offset+f.Limit)
		}
		l.Conds, l.Args = nil, nil
		l.And(`rowid IN (`+strings.Join(parts, ` UNION ALL `)+`)`, args...)
		l.Total, l.TotalArgs = `SELECT count(*) FROM incidents`+all.Where(), all.Args
	}
	if f.From.IsZero() && f.To.IsZero() {
		// The total from the counts the triggers keep (migration 0013):
		// a few rows, however long the tenant's history.
		counts := list{}
		counts.Tenant(tenant)
		inList(&counts, "status", f.Statuses)
		inList(&counts, "category", f.Categories)
		inList(&counts, "severity", f.Severities)
		l.Total, l.TotalArgs = `SELECT coalesce(sum(n), 0) FROM incident_counts`+counts.Where(), counts.Args
	}
	return listPage(ctx, s.read, s.decoded.scan, l, f.Offset, f.Limit)
}

func (s *incidentStore) UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Incident) (incident.Effects, error)) (*incident.Incident, error) {
	return incidentTable.update(ctx, (*DB)(s), tenant, id, func(tx *writeTx, cur *incident.Incident) error {
		effects, err := sqlstore.ChangeIncident(cur, tenant, id, change)
		if err != nil {
			return err
		}
		cols, err := columnsOf(cur)
		if err != nil {
			return err
		}
		// id, tenant, idempotency key and creation are the row's identity and never change.
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET category = ?, severity = ?, severity_rank = ?, status = ?,
			is_drill = ?, sequence = ?, updated_at = ?, doc = ?, tracking = ?, due_at = ?, assign_ms = ?, arrive_ms = ?, sla_state = ?,
			lng = ?, lat = ?, counts_as_threat = ? WHERE id = ?`, append(cols, id)...); err != nil {
			return err
		}
		if err := applyEffects(ctx, tx, tenant, id, effects); err != nil {
			return err
		}
		return insertEvents(ctx, tx, effects.Events)
	})
}

// columnsOf returns the mutable columns of inc in the order INSERT and
// UPDATE list them: category … counts_as_threat.
func columnsOf(inc *incident.Incident) ([]any, error) {
	c, err := sqlstore.IncidentColumnsOf(inc)
	if err != nil {
		return nil, err
	}
	return []any{inc.Category, inc.Severity, c.SeverityRank, inc.Status, inc.IsDrill,
		inc.Sequence, inc.UpdatedAt.UnixMilli(), c.Doc, c.Tracking, millis(inc.Tracking.DueAt),
		c.AssignMs, c.ArriveMs, c.SLAState, inc.Location.Coordinates.Lng(), inc.Location.Coordinates.Lat(), inc.CountsAsThreat()}, nil
}

func (s *incidentStore) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	return queryAll(ctx, s.read, s.decoded.scan, selectIncident+` WHERE due_at IS NOT NULL AND due_at <= ?
		AND status NOT IN ('resolved', 'cancelled') ORDER BY due_at, id LIMIT ?`, now.UnixMilli(), limit)
}

// QueuedNear walks the tenant's queue in dispatch order through its
// covering index (which holds each incident's position), keeps those in a
// box around at and loads only the rows that are within radiusM.
func (s *incidentStore) QueuedNear(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]*incident.Incident, error) {
	if tenant.Env != auth.Live {
		return nil, nil
	}
	near, err := s.queuedIDs(ctx, tenant, at, radiusM, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*incident.Incident, 0, len(near))
	for _, id := range near {
		inc, err := s.GetIncident(ctx, tenant, id)
		if errors.Is(err, incident.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if out = append(out, inc); len(out) == limit {
			break
		}
	}
	return out, nil
}

// queuedIDs reads the queue index in dispatch order and stops at the
// limit-th incident within radiusM of at.
func (s *incidentStore) queuedIDs(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]string, error) {
	box := geo.BoxAround(at, radiusM)
	rows, err := s.read.QueryContext(ctx, `SELECT id, lng, lat FROM incidents INDEXED BY incidents_queue
		WHERE org_id = ? AND environment = ? AND status = 'dispatching' AND is_drill = 0
		AND lat BETWEEN ? AND ? AND (lng BETWEEN ? AND ? OR lng BETWEEN ? AND ?)
		ORDER BY severity_rank DESC, created_at, id`,
		tenant.OrgID, tenant.Env, box.MinLat, box.MaxLat, box.MinLng, box.MaxLng, box.WrapMinLng, box.WrapMaxLng)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ids []string
	for len(ids) < limit && rows.Next() {
		var id string
		var lng, lat float64
		if err := rows.Scan(&id, &lng, &lat); err != nil {
			return nil, translate(err)
		}
		if geo.Distance(at, geo.Point{lng, lat}) <= radiusM {
			ids = append(ids, id)
		}
	}
	return ids, translate(rows.Err())
}

func (s *incidentStore) QueuedTenants(ctx context.Context, limit int) ([]auth.Tenant, error) {
	return queryAll(ctx, s.read, func(row rowScanner) (auth.Tenant, error) {
		var t auth.Tenant
		return t, row.Scan(&t.OrgID, &t.Env)
	}, `SELECT DISTINCT org_id, environment FROM incidents INDEXED BY incidents_queue
		WHERE status = 'dispatching' AND is_drill = 0 AND environment = 'live' LIMIT ?`, limit)
}

// ThreatReports streams the incidents created since since that count as
// threats (the counts_as_threat column holds incident.CountsAsThreat), from
// columns only.
//
// The checkpoint is the outbox position read in the same read transaction
// (one snapshot), so the reports and the events after it never overlap:
// every event has its position at commit, so none is ahead of it.
func (s *incidentStore) ThreatReports(ctx context.Context, since time.Time, fn func(threat.Report) error) (threat.Checkpoint, error) {
	var none threat.Checkpoint
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return none, translate(err)
	}
	defer tx.Rollback()
	var checkpoint sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(position) FROM outbox_events`).Scan(&checkpoint); err != nil {
		return none, translate(err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT created_at, lng, lat, category, severity FROM incidents
		WHERE counts_as_threat = 1 AND created_at >= ?`, since.UnixMilli())
	if err != nil {
		return none, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			at       int64
			lng, lat float64
			r        threat.Report
		)
		if err := rows.Scan(&at, &lng, &lat, &r.Category, &r.Severity); err != nil {
			return none, translate(err)
		}
		r.At, r.Location = time.UnixMilli(at).UTC(), geo.Point{lng, lat}
		if err := fn(r); err != nil {
			return none, err
		}
	}
	return threat.Checkpoint{Position: checkpoint.Int64}, translate(rows.Err())
}

// CountActive reads two partial indexes: the active incidents' statuses and
// environments, and the dispatch queue.
func (s *incidentStore) CountActive(ctx context.Context) (incident.ActiveCounts, error) {
	type statusCount struct {
		env    auth.Environment
		status incident.Status
		n      int
	}
	var out incident.ActiveCounts
	counts, err := queryAll(ctx, s.read, func(row rowScanner) (c statusCount, err error) {
		return c, row.Scan(&c.env, &c.status, &c.n)
	}, `SELECT environment, status, count(*) FROM incidents INDEXED BY incidents_active
		WHERE status NOT IN ('resolved', 'cancelled') GROUP BY status, environment`)
	if err != nil {
		return out, err
	}
	for _, c := range counts {
		out.Add(c.env, c.status, c.n)
	}
	err = s.read.QueryRowContext(ctx, `SELECT count(*) FROM incidents INDEXED BY incidents_queue
		WHERE status = 'dispatching' AND is_drill = 0 AND environment = 'live'`).Scan(&out.Queued)
	return out, translate(err)
}

// Lease is one upsert (sqlstore.TakeLease) through the writer.
func (s *incidentStore) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held := false
	err := (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		var got string
		err := tx.QueryRowContext(ctx, sqlstore.TakeLease, name, owner, until.UnixMilli(), now.UnixMilli()).Scan(&got)
		if errors.Is(err, errNoRows) {
			held = false // another owner's
			return nil
		}
		held = err == nil
		return err
	})
	return held, translate(err)
}
