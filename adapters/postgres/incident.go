package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

// incidentStore is incident.Store and threat.Source: the idempotent create,
// the list and the dispatch queue's reads here, the rest written once
// (sqlstore.Incidents, which claims responders with applyEffects).
type incidentStore struct {
	sqlstore.Incidents
	db *DB
}

// CreateIncident inserts with ON CONFLICT DO NOTHING on the idempotency
// key's unique index. Among concurrent creates with one key, from any
// number of instances, PostgreSQL lets one insert; the others wait for it
// to commit, insert nothing (so carry out no effects), and read its
// incident. If the winner rolls back instead, a waiter's insert goes
// ahead. A replay of a key already committed is answered from one read.
func (s *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
	return s.create(ctx, inc, effects, nil)
}

// CreateQueued is incident.QueueingStore. Its transaction first takes the
// tenant's pool lock shared, then looks for an available responder in
// range, failing if it finds one, then inserts (poolLook: the statements
// go out together, with the insert and COMMIT when there is no
// idempotency key, so a queued create is one round trip too). The look's
// snapshot is taken after the lock is granted. Every change that can make
// a responder of the tenant available takes the same lock exclusively
// before it writes (lockPool) and offers the responder only after its
// commit, so either this look sees that change, or the change's offer,
// reading after this commit, sees the incident. Queued creates of one
// tenant share the lock and never wait on each other.
func (s *incidentStore) CreateQueued(ctx context.Context, inc *incident.Incident, effects incident.Effects, withinM float64) (*incident.Incident, bool, error) {
	look := newPoolLook(inc.Tenant(), inc.Location.Coordinates, withinM)
	stored, created, err := s.create(ctx, inc, effects, look)
	return stored, created, refused(err)
}

// create inserts inc unless its idempotency key was used, after the
// pool lock and look (if any), in one transaction.
func (s *incidentStore) create(ctx context.Context, inc *incident.Incident, effects incident.Effects, look *poolLook) (*incident.Incident, bool, error) {
	if inc.IdempotencyKey != nil {
		found, err := sqlstore.ByIdempotencyKey(ctx, s.db.drv.Read(), inc)
		if err == nil {
			return found, false, nil
		}
		if !errors.Is(err, errNoRows) {
			return nil, false, translate(err)
		}
	}
	values, err := sqlstore.IncidentValues(dialect{}, inc, effects.Encoded)
	if err != nil {
		return nil, false, err
	}
	args := sqlstore.IncidentArgs(dialect{}, inc, values)
	if inc.IdempotencyKey == nil && effects.Claim == "" && effects.Release == "" {
		// Nothing to decide in Go: its writes are committed with the
		// creates queued beside it (group.go), unless it must run alone.
		if err := s.db.creates.do(ctx, look, args, effects.Events); !errors.Is(err, errAlone) {
			if err != nil {
				return nil, false, translate(err)
			}
			return sqlstore.Created(nil, inc)
		}
	}
	var existing *incident.Incident
	err = s.db.inTx(ctx, func(tx *txn) error {
		existing = nil
		switch {
		case look == nil:
		case inc.IdempotencyKey == nil:
			look.queue(&tx.tail) // first in the one batch
		default:
			b := &pgx.Batch{}
			look.queue(b)
			if err := tx.run(ctx, b); err != nil { // before the insert, which decides now
				return err
			}
		}
		if inc.IdempotencyKey == nil {
			tx.later(insertIncident, args...) // nothing to decide on: it goes out with the commit
		} else {
			tag, err := tx.Exec(ctx, insertIncident+` ON CONFLICT (org_id, environment, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`, args...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				// The key is taken. This statement's snapshot is newer than the
				// insert's wait, so it sees the winner's committed row.
				existing, err = sqlstore.ByIdempotencyKey(ctx, sharedTx{t: tx}, inc)
				return err
			}
		}
		if err := applyEffects(ctx, tx, inc.Tenant(), inc.ID, effects); err != nil {
			return err
		}
		tx.insertEvents(effects.Events)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return sqlstore.Created(existing, inc)
}

// insertIncident is sqlstore.InsertIncident with PostgreSQL's placeholders.
var insertIncident = sqlstore.Numbered(sqlstore.InsertIncident)

func (s *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	return sqlstore.Page(ctx, s.db.drv, sqlstore.ScanIncident, incidentList(tenant, f), f.Offset, f.Limit)
}

// incidentList is the list of the tenant's incidents matching f, with its
// total.
func incidentList(tenant auth.Tenant, f incident.Filter) sqlstore.List {
	l := sqlstore.List{Sel: sqlstore.SelectIncident, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	sqlstore.In(&l, dialect{}, "status", f.Statuses)
	sqlstore.In(&l, dialect{}, "category", f.Categories)
	sqlstore.In(&l, dialect{}, "severity", f.Severities)
	if !f.From.IsZero() {
		l.And(`created_at >= ?`, at(f.From))
	}
	if !f.To.IsZero() {
		l.And(`created_at <= ?`, at(f.To))
	}
	if f.From.IsZero() && f.To.IsZero() {
		// The total from the folded counts and the deltas not yet folded
		// (migration 0014), read in the page's snapshot: the fold moves
		// deltas into counts in one transaction, so the sum is exact.
		c := sqlstore.List{}
		c.Tenant(tenant)
		sqlstore.In(&c, dialect{}, "status", f.Statuses)
		sqlstore.In(&c, dialect{}, "category", f.Categories)
		sqlstore.In(&c, dialect{}, "severity", f.Severities)
		l.Total = `SELECT coalesce(sum(n), 0)::bigint FROM (SELECT n FROM incident_counts` + c.Where() +
			` UNION ALL SELECT n FROM incident_count_deltas` + c.Where() + `) AS counted`
		l.TotalArgs = append(append([]any{}, c.Args...), c.Args...)
	}
	return l
}

// QueuedNear reads the tenant's queue index in dispatch order (the index
// carries each incident's position, so no row is fetched to filter), keeps
// the incidents in the box around at and within radiusM of it by the
// haversine formula in SQL (with a metre of slack for rounding), and stops
// at the limit: its cost follows the incidents near at, not the queue.
// Go then applies geo.Distance exactly, asks for more in the rare case the
// slack cost it one, and loads the rows of those it keeps.
func (s *incidentStore) QueuedNear(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]*incident.Incident, error) {
	if tenant.Env != auth.Live || limit <= 0 {
		return nil, nil
	}
	box := geo.BoxAround(at, radiusM)
	var ids []string
	for n := limit; ; n *= 4 {
		type queued struct {
			id       string
			lng, lat float64
		}
		found, err := queryAll(ctx, s.db.pool, func(row rowScanner) (q queued, err error) {
			return q, row.Scan(&q.id, &q.lng, &q.lat)
		}, `SELECT id, lng, lat FROM incidents
			WHERE org_id = $1 AND environment = $2 AND status = 'dispatching' AND NOT is_drill
			AND lat BETWEEN $3 AND $4 AND (lng BETWEEN $5 AND $6 OR lng BETWEEN $7 AND $8)
			AND 2 * $9::float8 * asin(least(1, sqrt(sin(radians(lat - $10) / 2) ^ 2
				+ cos(radians($10)) * cos(radians(lat)) * sin(radians(lng - $11) / 2) ^ 2))) <= $12::float8 + 1
			ORDER BY severity_rank DESC, created_at, id LIMIT $13`,
			tenant.OrgID, string(tenant.Env), box.MinLat, box.MaxLat, box.MinLng, box.MaxLng, box.WrapMinLng, box.WrapMaxLng,
			geo.EarthRadiusMeters, at.Lat(), at.Lng(), radiusM, n)
		if err != nil {
			return nil, err
		}
		ids = ids[:0]
		for _, q := range found {
			if geo.Distance(at, geo.Point{q.lng, q.lat}) <= radiusM && len(ids) < limit {
				ids = append(ids, q.id)
			}
		}
		if len(ids) == limit || len(found) < n {
			break
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := queryAll(ctx, s.db.pool, sqlstore.ScanIncident, sqlstore.SelectIncident+` WHERE id = ANY($1) AND org_id = $2 AND environment = $3`,
		ids, tenant.OrgID, string(tenant.Env))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*incident.Incident, len(rows))
	for _, inc := range rows {
		byID[inc.ID] = inc
	}
	out := make([]*incident.Incident, 0, len(ids))
	for _, id := range ids { // in dispatch order
		if inc := byID[id]; inc != nil {
			out = append(out, inc)
		}
	}
	return out, nil
}

func (s *incidentStore) QueuedTenants(ctx context.Context, limit int) ([]auth.Tenant, error) {
	return queryAll(ctx, s.db.pool, func(row rowScanner) (auth.Tenant, error) {
		var t auth.Tenant
		var env string
		err := row.Scan(&t.OrgID, &env)
		t.Env = auth.Environment(env)
		return t, err
	}, queuedTenants, limit)
}

// queuedTenants walks the queue's index (incidents_queue) from one tenant
// to the next, one probe each, and keeps the live ones: PostgreSQL has no
// skip scan, so a DISTINCT over the index read every queued incident once
// a minute (the dispatch sweep's): 9,091 buffers and 80-100 ms for 10^5
// queued incidents of one tenant, against 8 buffers and 0.1 ms so
// (bench/README.md, issue 24, "what a second server costs beside its
// groups"). The sweep's work is to be bounded by the tenants with a
// queue, not the queue's length.
const queuedTenants = `WITH RECURSIVE queued AS (
		(SELECT org_id, environment FROM incidents WHERE status = 'dispatching' AND NOT is_drill
			ORDER BY org_id, environment LIMIT 1)
		UNION ALL
		SELECT n.org_id, n.environment FROM queued q, LATERAL (SELECT org_id, environment FROM incidents
			WHERE status = 'dispatching' AND NOT is_drill AND (org_id, environment) > (q.org_id, q.environment)
			ORDER BY org_id, environment LIMIT 1) n)
	SELECT org_id, environment FROM queued WHERE environment = 'live' LIMIT $1`

// CountActive counts in one statement, so in one snapshot: the active
// incidents by environment and status from the list totals' counts (the
// folded counts and the deltas not yet folded: exact at every read, and
// as many rows as the tenants' kinds of incident, not their incidents),
// and the live queue from its index (incidents_queue). No index of the
// active incidents is kept for it: every create and change of status
// wrote one (migration 0021).
func (s *incidentStore) CountActive(ctx context.Context) (incident.ActiveCounts, error) {
	type statusCount struct {
		env, status string
		n, waiting  int
	}
	var out incident.ActiveCounts
	counts, err := queryAll(ctx, s.db.pool, func(row rowScanner) (c statusCount, err error) {
		return c, row.Scan(&c.env, &c.status, &c.n, &c.waiting)
	}, `SELECT environment, status, sum(n)::bigint, 0::bigint FROM (
			SELECT environment, status, n FROM incident_counts WHERE status NOT IN ('resolved', 'cancelled')
			UNION ALL SELECT environment, status, n FROM incident_count_deltas WHERE status NOT IN ('resolved', 'cancelled')) AS counted
		GROUP BY environment, status HAVING sum(n) > 0
		UNION ALL SELECT 'live', 'dispatching', 0, count(*) FROM incidents
		WHERE status = 'dispatching' AND NOT is_drill AND environment = 'live'`)
	for _, c := range counts {
		if c.n > 0 {
			out.Add(auth.Environment(c.env), incident.Status(c.status), c.n)
		}
		out.Queued += c.waiting
	}
	return out, err
}

// ThreatReports streams the incidents created since since that count as
// threats (the counts_as_threat column holds incident.CountsAsThreat), from
// columns only, in one snapshot (a REPEATABLE READ transaction).
//
// The checkpoint is the newest log position that snapshot sees: every
// event at or before it was committed before the snapshot, so the reports
// hold its change. The snapshot may also hold changes whose events were
// committed but not yet positioned (the sequencer runs after commits):
// they will come after the checkpoint, and are listed in Ahead for the
// reader to skip. Events positioned later that the snapshot did not see
// were committed after it. Following the log from the checkpoint, skipping
// Ahead, repeats and misses nothing. The log is sequenced first unless a
// sequencer is running (the load never waits for one), so a store that
// nothing writes to meanwhile has nothing ahead.
func (s *incidentStore) ThreatReports(ctx context.Context, since time.Time, fn func(threat.Report) error) (threat.Checkpoint, error) {
	var checkpoint threat.Checkpoint
	if err := s.db.trySequence(ctx); err != nil {
		return checkpoint, err
	}
	err := pgx.BeginTxFunc(ctx, s.db.pool, readTx, func(tx pgx.Tx) error {
		checkpoint = threat.Checkpoint{}
		var err error
		if checkpoint.Position, err = head(ctx, tx); err != nil {
			return err
		}
		q := querierOf{tx}
		checkpoint.Ahead, err = sqlstore.QueryAll(ctx, q, func(row sqlstore.RowScanner) (c threat.Change, err error) {
			return c, row.Scan(&c.Subject, &c.Sequence)
		}, `SELECT subject_id, sequence FROM outbox_waiting() WHERE starts_with(type, 'incident.')`)
		if err != nil {
			return err
		}
		return sqlstore.ReadThreatReports(ctx, q, threatReports, at(since), fn)
	})
	if err != nil {
		return threat.Checkpoint{}, translate(err)
	}
	return checkpoint, nil
}

// threatReports lists the incidents created since ? that count as
// threats (true only of live incidents), from columns only: each
// organization's live incidents from then on, through the tenant's index
// (no index of its own: every create wrote it for a load that runs at
// start; migration 0021).
const threatReports = `SELECT i.created_at, i.lng, i.lat, i.category, i.severity
	FROM organizations o CROSS JOIN LATERAL (SELECT created_at, lng, lat, category, severity FROM incidents
		WHERE org_id = o.id AND environment = 'live' AND created_at >= ? AND counts_as_threat) i`

// Lease is one upsert (sqlstore.TakeLease) in its own transaction.
func (s *incidentStore) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	var got string
	err := s.db.pool.QueryRow(ctx, placeholders(sqlstore.TakeLease), name, owner, at(until), at(now)).Scan(&got)
	if errors.Is(err, errNoRows) {
		return false, nil
	}
	return err == nil, translate(err)
}
