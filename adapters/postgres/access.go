package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
)

type accessStore DB

func (s *accessStore) CodeKey(ctx context.Context) ([]byte, error) {
	return (*DB)(s).firstKey(ctx, "access_code_key")
}

const selectCode = sqlstore.SelectCode

var codeTable = table[*access.AccessCode]{sel: selectCode, scan: scanCode, notFound: access.ErrCodeNotFound}

func scanCode(row rowScanner) (*access.AccessCode, error) {
	var (
		c                             access.AccessCode
		env, doc                      string
		from, until, created, revoked pgtype.Timestamptz
		maxUses                       *int32
		uses                          int32
	)
	if err := row.Scan(&c.ID, &c.OrgID, &env, &c.Hash, &c.CodeHint, &c.Site, &doc, &from, &until, &maxUses, &uses, &c.Sequence, &created, &revoked); err != nil {
		return nil, err
	}
	if err := sqlstore.DecodeCodeDoc(&c, doc); err != nil {
		return nil, err
	}
	c.Environment, c.Uses = auth.Environment(env), int(uses)
	if maxUses != nil {
		n := int(*maxUses)
		c.MaxUses = &n
	}
	c.ValidFrom, c.ValidUntil = clock.At(fromAt(from)), clock.At(fromAt(until))
	c.CreatedAt, c.RevokedAt = clock.At(fromAt(created)), clock.At(fromAt(revoked))
	return &c, nil
}

// activeAt is "active at $n" in SQL, as access.AccessCode derives it.
func activeAt(n string) string {
	return `(revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until > ` + n + `)`
}

// CreateCode checks for an active code with the same digits and inserts,
// holding the advisory lock of the tenant's digits: no unique index can say
// "active" (it depends on the time), so two instances creating one code's
// digits at once take turns instead, and the second sees the first's code.
func (s *accessStore) CreateCode(ctx context.Context, c *access.AccessCode, now time.Time) error {
	doc, err := sqlstore.EncodeCodeDoc(c)
	if err != nil {
		return err
	}
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		if err := lockName(ctx, tx, lockCodeDigits, c.OrgID+"/"+string(c.Environment)+"/"+hex.EncodeToString(c.Hash)); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM access_codes WHERE org_id = $1 AND environment = $2 AND hash = $3 AND `+activeAt("$4")+`)`,
			c.OrgID, string(c.Environment), c.Hash, at(now)).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return access.ErrCodeTaken
		}
		tx.later(`INSERT INTO access_codes (id, org_id, environment, hash, code_hint, site, doc, valid_from, valid_until,
			max_uses, uses, sequence, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			c.ID, c.OrgID, string(c.Environment), c.Hash, c.CodeHint, c.Site, doc, at(c.ValidFrom.Time), at(c.ValidUntil.Time),
			c.MaxUses, c.Uses, c.Sequence, at(c.CreatedAt.Time), at(c.RevokedAt.Time))
		return nil
	})
}

func (s *accessStore) GetCode(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessCode, error) {
	return codeTable.get(ctx, s.pool, tenant, id, "")
}

// statusCond is the condition on codes of the status access derives at the
// time n names.
func statusCond(status, n string) string {
	switch status {
	case access.Revoked:
		return `revoked_at IS NOT NULL`
	case access.Used:
		return `revoked_at IS NULL AND max_uses IS NOT NULL AND uses >= max_uses`
	case access.Expired:
		return `revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until <= ` + n
	case access.Active:
		return activeAt(n)
	}
	return ""
}

func (s *accessStore) ListCodes(ctx context.Context, tenant auth.Tenant, f access.CodeFilter) ([]*access.AccessCode, int, error) {
	l := list{Sel: selectCode, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	switch f.Status {
	case access.Expired, access.Active:
		l.And(statusCond(f.Status, "?"), at(f.Now))
	case access.Revoked, access.Used:
		l.And(statusCond(f.Status, ""))
	}
	if f.Site != "" {
		l.And(`site = ?`, f.Site)
	}
	return listPage(ctx, (*DB)(s), scanCode, l, f.Offset, f.Limit)
}

// UpdateCode locks the code's row: see table.update.
func (s *accessStore) UpdateCode(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessCode) ([]outbox.Event, error)) (*access.AccessCode, error) {
	return codeTable.update(ctx, (*DB)(s), tenant, id, func(tx *txn, c *access.AccessCode) error {
		events, err := change(c)
		if err != nil {
			return err
		}
		doc, err := sqlstore.EncodeCodeDoc(c)
		if err != nil {
			return err
		}
		tx.later(`UPDATE access_codes SET doc = $1, site = $2, valid_from = $3, valid_until = $4, max_uses = $5, uses = $6,
			sequence = $7, revoked_at = $8 WHERE id = $9`, doc, c.Site, at(c.ValidFrom.Time), at(c.ValidUntil.Time), c.MaxUses, c.Uses,
			c.Sequence, at(c.RevokedAt.Time), id)
		tx.insertEvents(events)
		return nil
	})
}

// Validate counts a use with one conditional UPDATE (uses + 1 only while
// below max_uses). Concurrent check-ins with one code, from any instance,
// queue on the code's row, and PostgreSQL evaluates each one's condition
// on the row as the one before left it: never more uses than max_uses.
// Guesses are counted under the site's advisory lock (recordGuess).
func (s *accessStore) Validate(ctx context.Context, tenant auth.Tenant, v access.Validation, decide func(*access.AccessCode) (access.Decision, error)) (*access.ValidationResult, error) {
	var res *access.ValidationResult
	err := (*DB)(s).inTx(ctx, func(tx *txn) error {
		var until pgtype.Timestamptz
		err := tx.QueryRow(ctx, `SELECT until FROM access_locks WHERE org_id = $1 AND environment = $2 AND site = $3`,
			tenant.OrgID, string(tenant.Env), v.Site).Scan(&until)
		if err == nil && fromAt(until).After(v.Now) {
			res = &access.ValidationResult{Reason: access.ReasonLocked}
			return nil
		}
		if err != nil && !errors.Is(err, errNoRows) {
			return err
		}
		// Several codes may share digits over time; the one active now wins,
		// else the newest.
		code, err := scanCode(tx.QueryRow(ctx, selectCode+` WHERE org_id = $1 AND environment = $2 AND hash = $3 AND site = $4
			ORDER BY `+activeAt("$5")+` DESC, created_at DESC LIMIT 1`, tenant.OrgID, string(tenant.Env), v.Hash, v.Site, at(v.Now)))
		if errors.Is(err, errNoRows) {
			code = nil
		} else if err != nil {
			return err
		}
		d, err := decide(code)
		if err != nil {
			return err
		}
		res = &access.ValidationResult{Reason: d.Reason, AccessCode: code}
		if d.Reason == access.ReasonOK && d.Log == nil {
			return nil
		}
		if d.Reason == access.ReasonOK {
			var uses int32
			err := tx.QueryRow(ctx, `UPDATE access_codes SET uses = uses + 1 WHERE id = $1 AND (max_uses IS NULL OR uses < max_uses) RETURNING uses`,
				code.ID).Scan(&uses)
			if err == nil {
				code.Uses = int(uses)
				if err := insertLog(tx, d.Log); err != nil {
					return err
				}
				res.AccessLog = d.Log
				tx.insertEvents(d.Events)
				return nil
			}
			if !errors.Is(err, errNoRows) {
				return err
			}
			res.Reason = access.ReasonUsedUp
		}
		if code != nil {
			return nil // a real code refused (used up, expired...): not a guess
		}
		return recordGuess(ctx, tx, tenant, v)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// recordGuess counts a guess (a code that matched nothing) and locks the
// site when it is one too many. It holds the site's advisory lock, so
// guesses at one site from several instances are counted one after
// another, each seeing the ones before: two at once cannot both count one
// too few and leave the site open.
func recordGuess(ctx context.Context, tx *txn, tenant auth.Tenant, v access.Validation) error {
	if err := lockName(ctx, tx, lockSite, tenant.OrgID+"/"+string(tenant.Env)+"/"+v.Site); err != nil {
		return err
	}
	site := []any{tenant.OrgID, string(tenant.Env), v.Site}
	if _, err := tx.Exec(ctx, `INSERT INTO access_failures (org_id, environment, site, at) VALUES ($1, $2, $3, $4)`, append(site, at(v.Now))...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM access_failures WHERE org_id = $1 AND environment = $2 AND site = $3 AND at <= $4`,
		append(site, at(v.Now.Add(-v.Lockout.Window)))...); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM access_failures WHERE org_id = $1 AND environment = $2 AND site = $3`, site...).Scan(&n); err != nil {
		return err
	}
	if n < v.Lockout.Failures {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO access_locks (org_id, environment, site, until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, environment, site) DO UPDATE SET until = excluded.until`, append(site, at(v.Now.Add(v.Lockout.Lock)))...); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM access_failures WHERE org_id = $1 AND environment = $2 AND site = $3`, site...)
	return err
}

const selectLog = sqlstore.SelectLog

var logTable = table[*access.AccessLog]{sel: selectLog, scan: scanLog, notFound: access.ErrLogNotFound}

// scanLog reads and decodes an access log row (selectLog's columns).
var scanLog = sqlstore.ScanAccessLog

// logArgs are $1 id and the mutable columns $2 … $11, in the order INSERT
// and UPDATE list them.
func logArgs(l *access.AccessLog) ([]any, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return []any{l.ID, l.Site, l.Status, l.Method, sqlstore.AccessSearch(l), at(l.CheckedInAt.Time), at(l.CheckedOutAt.Time), l.DurationSeconds,
		at(l.ExpectedUntil.Time), l.Sequence, string(doc)}, nil
}

// insertLog queues the insert of l to go out with the commit.
func insertLog(tx *txn, l *access.AccessLog) error {
	args, err := logArgs(l)
	if err != nil {
		return err
	}
	tx.later(`INSERT INTO access_logs (id, site, status, method, search, checked_in_at, checked_out_at, duration_seconds,
		expected_until, sequence, doc, org_id, environment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		append(args, l.OrgID, string(l.Environment))...)
	return nil
}

func (s *accessStore) CreateLog(ctx context.Context, l *access.AccessLog, ev outbox.Event) error {
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		if err := insertLog(tx, l); err != nil {
			return err
		}
		tx.insertEvents([]outbox.Event{ev})
		return nil
	})
}

func (s *accessStore) GetLog(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessLog, error) {
	return logTable.get(ctx, s.pool, tenant, id, "")
}

// UpdateLog locks the log's row: see table.update.
func (s *accessStore) UpdateLog(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessLog) ([]outbox.Event, error)) (*access.AccessLog, error) {
	return logTable.update(ctx, (*DB)(s), tenant, id, func(tx *txn, l *access.AccessLog) error {
		events, err := change(l)
		if err != nil {
			return err
		}
		l.ID, l.OrgID, l.Environment = id, tenant.OrgID, tenant.Env
		args, err := logArgs(l)
		if err != nil {
			return err
		}
		tx.later(`UPDATE access_logs SET site = $2, status = $3, method = $4, search = $5, checked_in_at = $6, checked_out_at = $7,
			duration_seconds = $8, expected_until = $9, sequence = $10, doc = $11 WHERE id = $1`, args...)
		tx.insertEvents(events)
		return nil
	})
}

func (s *accessStore) ListLogs(ctx context.Context, tenant auth.Tenant, f access.LogFilter) ([]*access.AccessLog, int, error) {
	l := list{Sel: selectLog, Order: `checked_in_at DESC, id DESC`}
	l.Tenant(tenant)
	if f.Status != "" {
		l.And(`status = ?`, f.Status)
	}
	if f.Site != "" {
		l.And(`site = ?`, f.Site)
	}
	if f.Search != "" {
		// strpos, not LIKE: the user's % and _ are literal characters.
		l.And(`strpos(search, ?) > 0`, strings.ToLower(f.Search))
	}
	if !f.From.IsZero() {
		l.And(`checked_in_at >= ?`, at(f.From))
	}
	if !f.To.IsZero() {
		l.And(`checked_in_at <= ?`, at(f.To))
	}
	return listPage(ctx, (*DB)(s), scanLog, l, f.Offset, f.Limit)
}

func (s *accessStore) OnSite(ctx context.Context, tenant auth.Tenant, site string) ([]*access.AccessLog, error) {
	l := list{Sel: selectLog, Order: `checked_in_at, id`}
	l.Tenant(tenant)
	l.And(`status = 'checked_in'`)
	if site != "" {
		l.And(`site = ?`, site)
	}
	return all(ctx, s.pool, scanLog, l)
}

// LogStats aggregates in SQL, every part from one snapshot; the median is
// percentile_cont(0.5): the middle duration, or the mean of the two middle
// ones.
func (s *accessStore) LogStats(ctx context.Context, tenant auth.Tenant, site string, from, to, now time.Time) (*access.Stats, error) {
	st := &access.Stats{ByMethod: map[string]int{}, ByHour: make([]int, 24), ByWeekday: make([]int, 7)}
	base := ` FROM access_logs WHERE org_id = $1 AND environment = $2 AND ($3 = '' OR site = $3)`
	window := base + ` AND checked_in_at >= $4 AND checked_in_at <= $5`
	baseArgs := []any{tenant.OrgID, string(tenant.Env), site}
	args := append(append([]any{}, baseArgs...), at(from), at(to))
	err := pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*)`+base+` AND status = 'checked_in'`, baseArgs...).Scan(&st.CurrentlyOnSite); err != nil {
			return err
		}
		var avg, median *float64
		err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'checked_out'), avg(duration_seconds)::float8,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds),
			count(*) FILTER (WHERE expected_until IS NOT NULL AND (checked_out_at > expected_until OR (checked_out_at IS NULL AND $6 > expected_until)))`+window,
			append(args, at(now))...).Scan(&st.TotalEntries, &st.CheckedOut, &avg, &median, &st.Overstays)
		if err != nil {
			return err
		}
		if st.CheckedOut > 0 && avg != nil && median != nil {
			st.AverageVisitSeconds, st.MedianVisitSeconds = avg, median
		}
		if err := groupCount(ctx, tx, `SELECT method, count(*)`+window+` GROUP BY method`, args, func(k string, n int) { st.ByMethod[k] = n }); err != nil {
			return err
		}
		// Hour and weekday (0 is Sunday) of the check-in, in UTC, in one pass.
		type hourDay struct{ hour, weekday, n int }
		cells, err := queryAll(ctx, tx, func(row rowScanner) (c hourDay, err error) {
			return c, row.Scan(&c.hour, &c.weekday, &c.n)
		}, `SELECT extract(hour FROM checked_in_at AT TIME ZONE 'UTC')::int, extract(dow FROM checked_in_at AT TIME ZONE 'UTC')::int, count(*)`+
			window+` GROUP BY 1, 2`, args...)
		for _, c := range cells {
			st.ByHour[c.hour] += c.n
			st.ByWeekday[c.weekday] += c.n
		}
		return err
	})
	if err != nil {
		return nil, translate(err)
	}
	return st, nil
}
