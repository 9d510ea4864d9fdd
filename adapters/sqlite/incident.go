package sqlite

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

// incidentStore is incident.Store and threat.Source: the idempotent create,
// the list and the dispatch queue's reads here, the rest written once
// (sqlstore.Incidents, which reads outside transactions through the
// decoded incidents kept, and claims responders with applyEffects).
type incidentStore struct {
	sqlstore.Incidents
	db   *DB
	scan func(rowScanner) (*incident.Incident, error) // db.decoded.scan, made once
}

// CreateIncident looks the idempotency key up and inserts in one write
// transaction, which the single writer runs alone: of this process's
// creates with one key, the first inserts and the others find it.
func (s *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
	return s.create(ctx, inc, effects, nil)
}

// CreateQueued is incident.QueueingStore: the look at the pool runs in the
// insert's write transaction, which holds SQLite's write lock (BEGIN
// IMMEDIATE), so no change of the pool, by this process or another sharing
// the file, comes between the look and the commit.
func (s *incidentStore) CreateQueued(ctx context.Context, inc *incident.Incident, effects incident.Effects, withinM float64) (*incident.Incident, bool, error) {
	return s.create(ctx, inc, effects, func(tx *writeTx) error {
		// A tenant with no available responder anywhere has none in range:
		// the writer often knows that already, without the R*Tree look.
		if some, err := tx.available.hasAvailable(ctx, tx, inc.Tenant()); err != nil || !some {
			return err
		}
		found, err := availableWithin(ctx, tx, inc.Tenant(), inc.Location.Coordinates, withinM)
		if err == nil && found {
			err = incident.ErrResponderAvailable
		}
		return err
	})
}

// create inserts inc unless its idempotency key was used, after check (if
// any) lets it, in one write transaction.
func (s *incidentStore) create(ctx context.Context, inc *incident.Incident, effects incident.Effects, check func(*writeTx) error) (*incident.Incident, bool, error) {
	// Derived before the transaction: the writer runs one at a time.
	values, err := sqlstore.IncidentValues(dialect{}, inc, effects.Encoded)
	if err != nil {
		return nil, false, err
	}
	events := packEvents(effects.Events) // its deltas worked out here, off the writer
	var existing *incident.Incident
	err = s.db.inTx(ctx, func(tx *writeTx) error {
		if inc.IdempotencyKey != nil {
			found, err := sqlstore.ByIdempotencyKey(ctx, tx, inc)
			if err == nil {
				existing = found
				return nil
			}
			if !errors.Is(err, errNoRows) {
				return err
			}
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, sqlstore.InsertIncident, sqlstore.IncidentArgs(tx, inc, values)...); err != nil {
			return err
		}
		if err := applyEffects(ctx, tx, inc.Tenant(), inc.ID, effects); err != nil {
			return err
		}
		return insertPacked(ctx, tx, events)
	})
	if err != nil && inc.IdempotencyKey != nil && isUniqueViolation(err) {
		// Another process sharing the file won the race for this key between
		// our look-up and insert; its incident is the answer.
		if found, ferr := sqlstore.ByIdempotencyKey(ctx, s.db.drv.Read(), inc); ferr == nil {
			return found, false, nil
		}
	}
	if err != nil {
		return nil, false, translate(err)
	}
	return sqlstore.Created(existing, inc)
}

func (s *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	return sqlstore.Page(ctx, s.db.drv, s.scan, incidentList(tenant, f), f.Offset, f.Limit)
}

// incidentList is the query of the tenant's incidents that match f, with
// the query of their total.
func incidentList(tenant auth.Tenant, f incident.Filter) sqlstore.List {
	// matching is every condition but the status's.
	matching := sqlstore.List{}
	matching.Tenant(tenant)
	sqlstore.In(&matching, dialect{}, "category", f.Categories)
	sqlstore.In(&matching, dialect{}, "severity", f.Severities)
	if !f.From.IsZero() {
		matching.And(`created_at >= ?`, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		matching.And(`created_at <= ?`, f.To.UnixMilli())
	}
	all := matching
	sqlstore.In(&all, dialect{}, "status", f.Statuses)

	l := sqlstore.List{Sel: sqlstore.SelectIncident, Order: `created_at DESC, id DESC`, Conds: all.Conds, Args: all.Args}
	switch {
	case len(f.Statuses) > 1:
		// The page from one ordered range per status, each cut at the
		// page's end: the few active incidents among thousands cost a page
		// per status, not a walk of the history.
		parts, args := make([]string, len(f.Statuses)), []any{}
		for i, st := range f.Statuses {
			parts[i] = `SELECT rowid FROM (SELECT rowid FROM incidents INDEXED BY ` + statusIndex(st) + matching.Where() +
				` AND status = ?` + activeOnly(st) + ` ORDER BY created_at DESC, id DESC LIMIT ?)`
			args = append(append(args, matching.Args...), string(st), f.Offset+f.Limit)
		}
		l.Conds, l.Args = nil, nil
		l.And(`rowid IN (`+strings.Join(parts, ` UNION ALL `)+`)`, args...)
		l.Total, l.TotalArgs = `SELECT count(*) FROM incidents`+all.Where(), all.Args
	case len(f.Statuses) == 1 && f.Statuses[0].Active():
		l.And(activeIncidents)
	}
	if f.From.IsZero() && f.To.IsZero() {
		// The total from the counts the triggers keep (migration 0013):
		// a few rows, however long the tenant's history.
		counts := sqlstore.List{}
		counts.Tenant(tenant)
		sqlstore.In(&counts, dialect{}, "status", f.Statuses)
		sqlstore.In(&counts, dialect{}, "category", f.Categories)
		sqlstore.In(&counts, dialect{}, "severity", f.Severities)
		l.Total, l.TotalArgs = `SELECT coalesce(sum(n), 0) FROM incident_counts`+counts.Where(), counts.Args
	}
	return l
}

// activeIncidents is the condition of incidents_tenant_active, the partial
// index of active incidents: a query names it for SQLite to consider the
// index.
const activeIncidents = `status NOT IN ('resolved', 'cancelled')`

// statusIndex is the index that lists a tenant's incidents of status st
// newest first: the active ones' for an active status; for resolved and
// cancelled, the bulk of a tenant's history, the tenant's index, which
// holds the status.
func statusIndex(st incident.Status) string {
	if st.Active() {
		return `incidents_tenant_active`
	}
	return `incidents_tenant_created`
}

// activeOnly is the condition that lets a query of status st read
// incidents_tenant_active, "" for another status.
func activeOnly(st incident.Status) string {
	if st.Active() {
		return ` AND ` + activeIncidents
	}
	return ""
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

// queuedNear lists the tenant's (?1, ?2) queue in dispatch order within
// a box (latitudes ?3 to ?4, longitudes ?5 to ?6 or, across ±180°, ?7 to
// ?8), from incidents_queue alone.
const queuedNear = `SELECT id, lng, lat FROM incidents INDEXED BY incidents_queue
	WHERE org_id = ? AND environment = ? AND status = 'dispatching' AND is_drill = 0
	AND lat BETWEEN ? AND ? AND (lng BETWEEN ? AND ? OR lng BETWEEN ? AND ?)
	ORDER BY severity_rank DESC, created_at, id`

// queuedIDs reads the queue index in dispatch order and stops at the
// limit-th incident within radiusM of at.
func (s *incidentStore) queuedIDs(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]string, error) {
	box := geo.BoxAround(at, radiusM)
	rows, err := s.db.read.QueryContext(ctx, queuedNear, tenant.OrgID, tenant.Env, box.MinLat, box.MaxLat, box.MinLng, box.MaxLng, box.WrapMinLng, box.WrapMaxLng)
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

// queuedTenants lists up to ?1 tenants with a dispatch queue
// (incidents_queue).
const queuedTenants = `SELECT DISTINCT org_id, environment FROM incidents INDEXED BY incidents_queue
	WHERE status = 'dispatching' AND is_drill = 0 AND environment = 'live' LIMIT ?`

func (s *incidentStore) QueuedTenants(ctx context.Context, limit int) ([]auth.Tenant, error) {
	return queryAll(ctx, s.db.read, func(row rowScanner) (auth.Tenant, error) {
		var t auth.Tenant
		return t, row.Scan(&t.OrgID, &t.Env)
	}, queuedTenants, limit)
}

// activeCounts counts the active incidents by status and environment,
// from incidents_tenant_active alone; queuedCount counts the live queue,
// from incidents_queue alone.
const (
	activeCounts = `SELECT environment, status, count(*) FROM incidents INDEXED BY incidents_tenant_active
		WHERE ` + activeIncidents + ` GROUP BY status, environment`
	queuedCount = `SELECT count(*) FROM incidents INDEXED BY incidents_queue
		WHERE status = 'dispatching' AND is_drill = 0 AND environment = 'live'`
)

// CountActive reads two partial indexes: the active incidents' (their
// statuses and environments), and the dispatch queue.
func (s *incidentStore) CountActive(ctx context.Context) (incident.ActiveCounts, error) {
	type statusCount struct {
		env    auth.Environment
		status incident.Status
		n      int
	}
	var out incident.ActiveCounts
	counts, err := queryAll(ctx, s.db.read, func(row rowScanner) (c statusCount, err error) {
		return c, row.Scan(&c.env, &c.status, &c.n)
	}, activeCounts)
	if err != nil {
		return out, err
	}
	for _, c := range counts {
		out.Add(c.env, c.status, c.n)
	}
	err = s.db.read.QueryRowContext(ctx, queuedCount).Scan(&out.Queued)
	return out, translate(err)
}

// threatReports lists the incidents created since ?1 that count as
// threats (the counts_as_threat column holds incident.CountsAsThreat, true
// only of live incidents), from columns only: each organization's live
// incidents from ?1 on, through the tenant's index (no index of its own:
// a create would write it for a load that runs at start).
const threatReports = `SELECT i.created_at, i.lng, i.lat, i.category, i.severity
	FROM organizations o CROSS JOIN incidents i INDEXED BY incidents_tenant_created
	WHERE i.org_id = o.id AND i.environment = 'live' AND i.created_at >= ?1 AND i.counts_as_threat = 1`

// ThreatReports reads the checkpoint and the reports (threatReports) in one snapshot (a
// read transaction of the read pool). The checkpoint is the newest outbox
// position that snapshot sees: every event has its position at commit, in
// commit order, so the snapshot holds every change whose events are at or
// before it and none after: following the log from it repeats and misses
// nothing.
func (s *incidentStore) ThreatReports(ctx context.Context, since time.Time, fn func(threat.Report) error) (threat.Checkpoint, error) {
	var checkpoint threat.Checkpoint
	err := s.db.drv.Snapshot(ctx, func(q sqlstore.Querier) error {
		checkpoint = threat.Checkpoint{}
		if err := q.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM outbox_events`).Scan(&checkpoint.Position); err != nil {
			return err
		}
		return sqlstore.ReadThreatReports(ctx, q, threatReports, millis(since), fn)
	})
	if err != nil {
		return threat.Checkpoint{}, err
	}
	return checkpoint, nil
}

// Lease is one upsert (sqlstore.TakeLease) through the writer.
func (s *incidentStore) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held := false
	err := s.db.inTx(ctx, func(tx *writeTx) error {
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
