package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

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
		doc                           string
		from, until, created, revoked sql.NullInt64
		maxUses                       sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.OrgID, &c.Environment, &c.Hash, &c.CodeHint, &c.Site, &doc, &from, &until, &maxUses, &c.Uses, &c.Sequence, &created, &revoked); err != nil {
		return nil, err
	}
	if err := sqlstore.DecodeCodeDoc(&c, doc); err != nil {
		return nil, err
	}
	if maxUses.Valid {
		n := int(maxUses.Int64)
		c.MaxUses = &n
	}
	c.ValidFrom, c.ValidUntil = clock.At(fromMillis(from)), clock.At(fromMillis(until))
	c.CreatedAt, c.RevokedAt = clock.At(fromMillis(created)), clock.At(fromMillis(revoked))
	return &c, nil
}

// activeSQL is "active at ?" in SQL, as access.AccessCode derives it.
const activeSQL = `(revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until > ?)`

func (s *accessStore) CreateCode(ctx context.Context, c *access.AccessCode, now time.Time) error {
	doc, err := sqlstore.EncodeCodeDoc(c)
	if err != nil {
		return err
	}
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_codes WHERE org_id = ? AND environment = ? AND hash = ? AND `+activeSQL,
			c.OrgID, c.Environment, c.Hash, now.UnixMilli()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return access.ErrCodeTaken
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_codes (id, org_id, environment, hash, code_hint, site, doc, valid_from, valid_until,
			max_uses, uses, sequence, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.OrgID, c.Environment, c.Hash, c.CodeHint, c.Site, doc, c.ValidFrom.UnixMilli(), c.ValidUntil.UnixMilli(),
			c.MaxUses, c.Uses, c.Sequence, c.CreatedAt.UnixMilli(), millis(c.RevokedAt.Time))
		return err
	}))
}

func (s *accessStore) GetCode(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessCode, error) {
	return codeTable.get(ctx, s.read, tenant, id)
}

// statusSQL is the condition on codes of the status access derives at the
// time it takes as its one argument.
func statusSQL(status string) string {
	switch status {
	case access.Revoked:
		return `revoked_at IS NOT NULL AND ? IS NOT NULL`
	case access.Used:
		return `revoked_at IS NULL AND max_uses IS NOT NULL AND uses >= max_uses AND ? IS NOT NULL`
	case access.Expired:
		return `revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until <= ?`
	case access.Active:
		return activeSQL
	}
	return `? IS NOT NULL`
}

func (s *accessStore) ListCodes(ctx context.Context, tenant auth.Tenant, f access.CodeFilter) ([]*access.AccessCode, int, error) {
	l := list{Sel: selectCode, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	l.And(statusSQL(f.Status), f.Now.UnixMilli())
	if f.Site != "" {
		l.And(`site = ?`, f.Site)
	}
	return listPage(ctx, s.read, scanCode, l, f.Offset, f.Limit)
}

func (s *accessStore) UpdateCode(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessCode) ([]outbox.Event, error)) (*access.AccessCode, error) {
	return codeTable.update(ctx, (*DB)(s), tenant, id, func(tx *writeTx, c *access.AccessCode) error {
		events, err := change(c)
		if err != nil {
			return err
		}
		doc, err := sqlstore.EncodeCodeDoc(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_codes SET doc = ?, site = ?, valid_from = ?, valid_until = ?, max_uses = ?, uses = ?,
			sequence = ?, revoked_at = ? WHERE id = ?`, doc, c.Site, c.ValidFrom.UnixMilli(), c.ValidUntil.UnixMilli(), c.MaxUses, c.Uses,
			c.Sequence, millis(c.RevokedAt.Time), id); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

func (s *accessStore) Validate(ctx context.Context, tenant auth.Tenant, v access.Validation, decide func(*access.AccessCode) (access.Decision, error)) (*access.ValidationResult, error) {
	var res *access.ValidationResult
	now := v.Now.UnixMilli()
	err := (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		var until int64
		err := tx.QueryRowContext(ctx, `SELECT until FROM access_locks WHERE org_id = ? AND environment = ? AND site = ?`, tenant.OrgID, tenant.Env, v.Site).Scan(&until)
		if err == nil && until > now {
			res = &access.ValidationResult{Reason: access.ReasonLocked}
			return nil
		}
		if err != nil && !errors.Is(err, errNoRows) {
			return err
		}
		// Several codes may share digits over time; the one active now wins,
		// else the newest.
		code, err := scanCode(tx.QueryRowContext(ctx, selectCode+` WHERE org_id = ? AND environment = ? AND hash = ? AND site = ?
			ORDER BY `+activeSQL+` DESC, created_at DESC LIMIT 1`, tenant.OrgID, tenant.Env, v.Hash, v.Site, now))
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
			// The use is counted only while below max_uses: the check and the
			// increment are one statement.
			r, err := tx.ExecContext(ctx, `UPDATE access_codes SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)`, code.ID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 1 {
				code.Uses++
				if err := insertLog(ctx, tx, d.Log); err != nil {
					return err
				}
				res.AccessLog = d.Log
				return insertEvents(ctx, tx, d.Events)
			}
			res.Reason = access.ReasonUsedUp
		}
		if code != nil {
			return nil // a real code refused (used up, expired...): not a guess
		}
		return recordGuess(ctx, tx, tenant, v)
	})
	if err != nil {
		return nil, translate(err)
	}
	return res, nil
}

// recordGuess counts a guess (a code that matched nothing) and locks the
// site when it is one too many.
func recordGuess(ctx context.Context, tx *writeTx, tenant auth.Tenant, v access.Validation) error {
	now := v.Now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_failures (org_id, environment, site, at) VALUES (?, ?, ?, ?)`, tenant.OrgID, tenant.Env, v.Site, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_failures WHERE org_id = ? AND environment = ? AND site = ? AND at <= ?`,
		tenant.OrgID, tenant.Env, v.Site, v.Now.Add(-v.Lockout.Window).UnixMilli()); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_failures WHERE org_id = ? AND environment = ? AND site = ?`,
		tenant.OrgID, tenant.Env, v.Site).Scan(&n); err != nil {
		return err
	}
	if n < v.Lockout.Failures {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_locks (org_id, environment, site, until) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, environment, site) DO UPDATE SET until = excluded.until`, tenant.OrgID, tenant.Env, v.Site, v.Now.Add(v.Lockout.Lock).UnixMilli()); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM access_failures WHERE org_id = ? AND environment = ? AND site = ?`, tenant.OrgID, tenant.Env, v.Site)
	return err
}

const selectLog = sqlstore.SelectLog

var logTable = table[*access.AccessLog]{sel: selectLog, scan: scanLog, notFound: access.ErrLogNotFound}

// scanLog reads and decodes an access log row (selectLog's columns).
var scanLog = sqlstore.ScanAccessLog

func logArgs(l *access.AccessLog) ([]any, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return []any{l.Site, l.Status, l.Method, sqlstore.AccessSearch(l), l.CheckedInAt.UnixMilli(), millis(l.CheckedOutAt.Time), l.DurationSeconds,
		millis(l.ExpectedUntil.Time), l.Sequence, string(doc)}, nil
}

func insertLog(ctx context.Context, tx *writeTx, l *access.AccessLog) error {
	args, err := logArgs(l)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO access_logs (site, status, method, search, checked_in_at, checked_out_at, duration_seconds,
		expected_until, sequence, doc, id, org_id, environment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, l.ID, l.OrgID, l.Environment)...)
	return err
}

func (s *accessStore) CreateLog(ctx context.Context, l *access.AccessLog, ev outbox.Event) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if err := insertLog(ctx, tx, l); err != nil {
			return err
		}
		return insertEvents(ctx, tx, []outbox.Event{ev})
	}))
}

func (s *accessStore) GetLog(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessLog, error) {
	return logTable.get(ctx, s.read, tenant, id)
}

func (s *accessStore) UpdateLog(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessLog) ([]outbox.Event, error)) (*access.AccessLog, error) {
	return logTable.update(ctx, (*DB)(s), tenant, id, func(tx *writeTx, l *access.AccessLog) error {
		events, err := change(l)
		if err != nil {
			return err
		}
		l.ID, l.OrgID, l.Environment = id, tenant.OrgID, tenant.Env
		args, err := logArgs(l)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_logs SET site = ?, status = ?, method = ?, search = ?, checked_in_at = ?, checked_out_at = ?,
			duration_seconds = ?, expected_until = ?, sequence = ?, doc = ? WHERE id = ?`, append(args, id)...); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
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
		// instr, not LIKE: the user's % and _ are literal characters.
		l.And(`instr(search, ?) > 0`, strings.ToLower(f.Search))
	}
	if !f.From.IsZero() {
		l.And(`checked_in_at >= ?`, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		l.And(`checked_in_at <= ?`, f.To.UnixMilli())
	}
	return listPage(ctx, s.read, scanLog, l, f.Offset, f.Limit)
}

func (s *accessStore) OnSite(ctx context.Context, tenant auth.Tenant, site string) ([]*access.AccessLog, error) {
	l := list{Sel: selectLog, Order: `checked_in_at, id`}
	l.And(`org_id = ? AND environment = ? AND status = 'checked_in'`, tenant.OrgID, tenant.Env)
	if site != "" {
		l.And(`site = ?`, site)
	}
	return all(ctx, s.read, scanLog, l)
}

// LogStats aggregates in SQL; the median reads the one or two middle rows.
func (s *accessStore) LogStats(ctx context.Context, tenant auth.Tenant, site string, from, to, now time.Time) (*access.Stats, error) {
	st := &access.Stats{ByMethod: map[string]int{}, ByHour: make([]int, 24), ByWeekday: make([]int, 7)}
	base := ` FROM access_logs WHERE org_id = ? AND environment = ?`
	baseArgs := []any{tenant.OrgID, tenant.Env}
	if site != "" {
		base, baseArgs = base+` AND site = ?`, append(baseArgs, site)
	}
	window := base + ` AND checked_in_at >= ? AND checked_in_at <= ?`
	args := append(append([]any{}, baseArgs...), from.UnixMilli(), to.UnixMilli())

	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT count(*)`+base+` AND status = 'checked_in'`, baseArgs...).Scan(&st.CurrentlyOnSite); err != nil {
		return nil, translate(err)
	}
	var avg sql.NullFloat64
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(status = 'checked_out'), 0), avg(duration_seconds),
		coalesce(sum(expected_until IS NOT NULL AND (checked_out_at > expected_until OR (checked_out_at IS NULL AND ? > expected_until))), 0)`+window,
		append([]any{now.UnixMilli()}, args...)...).Scan(&st.TotalEntries, &st.CheckedOut, &avg, &st.Overstays)
	if err != nil {
		return nil, translate(err)
	}
	if err := groupCount(ctx, tx, `SELECT method, count(*)`+window+` GROUP BY method`, args, func(k string, n int) { st.ByMethod[k] = n }); err != nil {
		return nil, err
	}
	// Hour and weekday in one pass: checked_in_at is UTC milliseconds.
	type hourDay struct{ hour, weekday, n int }
	cells, err := queryAll(ctx, tx, func(row rowScanner) (c hourDay, err error) {
		return c, row.Scan(&c.hour, &c.weekday, &c.n)
	}, `SELECT (checked_in_at / 3600000) % 24, ((checked_in_at / 86400000) + 4) % 7, count(*)`+window+` GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		st.ByHour[c.hour] += c.n
		st.ByWeekday[c.weekday] += c.n
	}
	if st.CheckedOut > 0 {
		a := avg.Float64
		mid := func(k int) (float64, error) {
			var v int64
			// Walks the duration index in order: no sort of the window.
			err := tx.QueryRowContext(ctx, `SELECT duration_seconds FROM access_logs INDEXED BY access_logs_duration`+strings.TrimPrefix(window, ` FROM access_logs`)+
				` AND duration_seconds IS NOT NULL ORDER BY duration_seconds LIMIT 1 OFFSET ?`, append(args, k)...).Scan(&v)
			return float64(v), err
		}
		med, err := mid((st.CheckedOut - 1) / 2)
		if err == nil && st.CheckedOut%2 == 0 {
			var hi float64
			hi, err = mid(st.CheckedOut / 2)
			med = (med + hi) / 2
		}
		if err != nil {
			return nil, translate(err)
		}
		st.AverageVisitSeconds, st.MedianVisitSeconds = &a, &med
	}
	return st, nil
}
