package sqlstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

// accessStore is access.Store on a Driver: the same SQL on both engines.
type accessStore struct{ d Driver }

func (s accessStore) CodeKey(ctx context.Context) ([]byte, error) {
	return firstKey(ctx, s.d, "access_code_key")
}

// SelectCode is the select of access codes.
const SelectCode = `SELECT id, org_id, environment, hash, code_hint, site, doc, valid_from, valid_until, max_uses, uses, sequence, created_at, revoked_at FROM access_codes`

var codeTable = Table[*access.AccessCode]{Sel: SelectCode, Scan: scanCode, NotFound: access.ErrCodeNotFound}

// codeDoc is the part of an access code kept as JSON (its doc column):
// never filtered on.
type codeDoc struct {
	Visitor access.Visitor `json:"visitor"`
	Host    access.Host    `json:"host"`
	Purpose *string        `json:"purpose"`
}

func encodeCodeDoc(c *access.AccessCode) (string, error) {
	doc, err := json.Marshal(codeDoc{c.Visitor, c.Host, c.Purpose})
	return string(doc), err
}

func scanCode(row RowScanner) (*access.AccessCode, error) {
	var (
		c                             access.AccessCode
		env, doc                      string
		from, until, created, revoked Time
	)
	if err := row.Scan(&c.ID, &c.OrgID, &env, &c.Hash, &c.CodeHint, &c.Site, &doc, &from, &until, &c.MaxUses, &c.Uses, &c.Sequence, &created, &revoked); err != nil {
		return nil, err
	}
	var d codeDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("decode access code %s: %w", c.ID, err)
	}
	c.Environment, c.Visitor, c.Host, c.Purpose = auth.Environment(env), d.Visitor, d.Host, d.Purpose
	c.ValidFrom, c.ValidUntil, c.CreatedAt, c.RevokedAt = from.Clock(), until.Clock(), created.Clock(), revoked.Clock()
	return &c, nil
}

// activeSQL is "active at ?" in SQL, as access.AccessCode derives it.
const activeSQL = `(revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until > ?)`

// CreateCode checks for an active code with the same digits and inserts,
// serialized on the tenant's digits: no unique index can say "active" (it
// depends on the time), so two instances creating one code's digits at
// once take turns instead, and the second sees the first's code.
func (s accessStore) CreateCode(ctx context.Context, c *access.AccessCode, now time.Time) error {
	doc, err := encodeCodeDoc(c)
	if err != nil {
		return err
	}
	return s.d.InTx(ctx, func(tx Tx) error {
		if err := tx.Serialize(ctx, LockCodeDigits, c.OrgID+"/"+string(c.Environment)+"/"+hex.EncodeToString(c.Hash)); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM access_codes WHERE org_id = ? AND environment = ? AND hash = ? AND `+activeSQL+`)`,
			c.OrgID, c.Environment, c.Hash, tx.Time(now)).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return access.ErrCodeTaken
		}
		tx.Later(`INSERT INTO access_codes (id, org_id, environment, hash, code_hint, site, doc, valid_from, valid_until,
			max_uses, uses, sequence, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.OrgID, c.Environment, c.Hash, c.CodeHint, c.Site, doc, tx.Time(c.ValidFrom.Time), tx.Time(c.ValidUntil.Time),
			c.MaxUses, c.Uses, c.Sequence, tx.Time(c.CreatedAt.Time), tx.Time(c.RevokedAt.Time))
		return nil
	})
}

func (s accessStore) GetCode(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessCode, error) {
	c, err := codeTable.Get(ctx, s.d.Read(), tenant, id, "")
	return c, s.d.Translate(err)
}

// statusCond is the condition on codes of the status access derives, and
// whether it takes the time as an argument.
func statusCond(status string) (cond string, atTime bool) {
	switch status {
	case access.Revoked:
		return `revoked_at IS NOT NULL`, false
	case access.Used:
		return `revoked_at IS NULL AND max_uses IS NOT NULL AND uses >= max_uses`, false
	case access.Expired:
		return `revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses) AND valid_until <= ?`, true
	case access.Active:
		return activeSQL, true
	}
	return "", false
}

func (s accessStore) ListCodes(ctx context.Context, tenant auth.Tenant, f access.CodeFilter) ([]*access.AccessCode, int, error) {
	l := List{Sel: SelectCode, Order: `created_at DESC, id DESC`}
	l.Tenant(tenant)
	if cond, atTime := statusCond(f.Status); atTime {
		l.And(cond, s.d.Time(f.Now))
	} else if cond != "" {
		l.And(cond)
	}
	if f.Site != "" {
		l.And(`site = ?`, f.Site)
	}
	return Page(ctx, s.d, scanCode, l, f.Offset, f.Limit)
}

// UpdateCode locks the code's row: see Table.Update.
func (s accessStore) UpdateCode(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessCode) ([]outbox.Event, error)) (*access.AccessCode, error) {
	return codeTable.Update(ctx, s.d, tenant, id, func(tx Tx, c *access.AccessCode) error {
		events, err := change(c)
		if err != nil {
			return err
		}
		doc, err := encodeCodeDoc(c)
		if err != nil {
			return err
		}
		tx.Later(`UPDATE access_codes SET doc = ?, site = ?, valid_from = ?, valid_until = ?, max_uses = ?, uses = ?,
			sequence = ?, revoked_at = ? WHERE id = ?`, doc, c.Site, tx.Time(c.ValidFrom.Time), tx.Time(c.ValidUntil.Time), c.MaxUses, c.Uses,
			c.Sequence, tx.Time(c.RevokedAt.Time), id)
		tx.InsertEvents(events)
		return nil
	})
}

// Validate counts a use with one conditional UPDATE (uses + 1 only while
// below max_uses). Concurrent check-ins with one code, from any instance,
// queue on the code's row, and the engine evaluates each one's condition
// on the row as the one before left it: never more uses than max_uses.
// Guesses are counted serialized on the site (recordGuess).
func (s accessStore) Validate(ctx context.Context, tenant auth.Tenant, v access.Validation, decide func(*access.AccessCode) (access.Decision, error)) (*access.ValidationResult, error) {
	var res *access.ValidationResult
	err := s.d.InTx(ctx, func(tx Tx) error {
		var until Time
		err := tx.QueryRow(ctx, `SELECT until FROM access_locks WHERE org_id = ? AND environment = ? AND site = ?`,
			tenant.OrgID, tenant.Env, v.Site).Scan(&until)
		if err == nil && until.After(v.Now) {
			res = &access.ValidationResult{Reason: access.ReasonLocked}
			return nil
		}
		if err != nil && !errors.Is(err, ErrNoRows) {
			return err
		}
		// Several codes may share digits over time; the one active now wins,
		// else the newest.
		code, err := scanCode(tx.QueryRow(ctx, SelectCode+` WHERE org_id = ? AND environment = ? AND hash = ? AND site = ?
			ORDER BY `+activeSQL+` DESC, created_at DESC LIMIT 1`, tenant.OrgID, tenant.Env, v.Hash, v.Site, tx.Time(v.Now)))
		if errors.Is(err, ErrNoRows) {
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
			err := tx.QueryRow(ctx, `UPDATE access_codes SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses) RETURNING uses`,
				code.ID).Scan(&code.Uses)
			if err == nil {
				if err := InsertLog(tx, d.Log); err != nil {
					return err
				}
				res.AccessLog = d.Log
				tx.InsertEvents(d.Events)
				return nil
			}
			if !errors.Is(err, ErrNoRows) {
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
// site when it is one too many. It is serialized on the site, so guesses
// at one site from several instances are counted one after another, each
// seeing the ones before: two at once cannot both count one too few and
// leave the site open.
func recordGuess(ctx context.Context, tx Tx, tenant auth.Tenant, v access.Validation) error {
	if err := tx.Serialize(ctx, LockSite, tenant.OrgID+"/"+string(tenant.Env)+"/"+v.Site); err != nil {
		return err
	}
	site := []any{tenant.OrgID, tenant.Env, v.Site}
	if _, err := tx.Exec(ctx, `INSERT INTO access_failures (org_id, environment, site, at) VALUES (?, ?, ?, ?)`, append(site, tx.Time(v.Now))...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM access_failures WHERE org_id = ? AND environment = ? AND site = ? AND at <= ?`,
		append(site, tx.Time(v.Now.Add(-v.Lockout.Window)))...); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM access_failures WHERE org_id = ? AND environment = ? AND site = ?`, site...).Scan(&n); err != nil {
		return err
	}
	if n < v.Lockout.Failures {
		return nil
	}
	tx.Later(`INSERT INTO access_locks (org_id, environment, site, until) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, environment, site) DO UPDATE SET until = excluded.until`, append(site, tx.Time(v.Now.Add(v.Lockout.Lock)))...)
	tx.Later(`DELETE FROM access_failures WHERE org_id = ? AND environment = ? AND site = ?`, site...)
	return nil
}

// SelectLog is the select of access logs: the log is its JSON document,
// with the identity the columns carry.
const SelectLog = `SELECT id, org_id, environment, sequence, doc FROM access_logs`

var logTable = Table[*access.AccessLog]{Sel: SelectLog, Scan: ScanAccessLog, NotFound: access.ErrLogNotFound}

// ScanAccessLog reads and decodes one access log row (SelectLog's columns).
func ScanAccessLog(row RowScanner) (*access.AccessLog, error) {
	var (
		l                 access.AccessLog
		id, org, env, doc string
		seq               int64
	)
	if err := row.Scan(&id, &org, &env, &seq, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &l); err != nil {
		return nil, fmt.Errorf("decode access log %s: %w", id, err)
	}
	l.ID, l.OrgID, l.Environment, l.Sequence = id, org, auth.Environment(env), seq
	return &l, nil
}

// AccessSearch is what the access log search filter matches (the search
// column), lower-cased: the visitor's name, phone and plate, the host's
// name and unit, and the purpose.
func AccessSearch(l *access.AccessLog) string {
	parts := []string{l.Visitor.Name}
	for _, p := range []*string{l.Visitor.Phone, l.Visitor.VehiclePlate, l.Host.Name, l.Host.Unit, l.Purpose} {
		if p != nil {
			parts = append(parts, *p)
		}
	}
	return strings.ToLower(strings.Join(parts, "\x1f"))
}

// logColumns are the columns of a log that a change may set, in the
// order logArgs gives them.
const logColumns = `site, status, method, search, checked_in_at, checked_out_at, duration_seconds, expected_until, sequence, doc`

func logArgs(d Dialect, l *access.AccessLog) ([]any, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return []any{l.Site, l.Status, l.Method, AccessSearch(l), d.Time(l.CheckedInAt.Time), d.Time(l.CheckedOutAt.Time), l.DurationSeconds,
		d.Time(l.ExpectedUntil.Time), l.Sequence, string(doc)}, nil
}

// InsertLog stores a new log in tx (with the commit where it can).
func InsertLog(tx Tx, l *access.AccessLog) error {
	args, err := logArgs(tx, l)
	if err != nil {
		return err
	}
	tx.Later(`INSERT INTO access_logs (`+logColumns+`, id, org_id, environment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, l.ID, l.OrgID, l.Environment)...)
	return nil
}

func (s accessStore) CreateLog(ctx context.Context, l *access.AccessLog, ev outbox.Event) error {
	return s.d.InTx(ctx, func(tx Tx) error {
		if err := InsertLog(tx, l); err != nil {
			return err
		}
		tx.InsertEvents([]outbox.Event{ev})
		return nil
	})
}

func (s accessStore) GetLog(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessLog, error) {
	l, err := logTable.Get(ctx, s.d.Read(), tenant, id, "")
	return l, s.d.Translate(err)
}

// UpdateLog locks the log's row: see Table.Update.
func (s accessStore) UpdateLog(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessLog) ([]outbox.Event, error)) (*access.AccessLog, error) {
	return logTable.Update(ctx, s.d, tenant, id, func(tx Tx, l *access.AccessLog) error {
		events, err := change(l)
		if err != nil {
			return err
		}
		l.ID, l.OrgID, l.Environment = id, tenant.OrgID, tenant.Env
		args, err := logArgs(tx, l)
		if err != nil {
			return err
		}
		tx.Later(`UPDATE access_logs SET site = ?, status = ?, method = ?, search = ?, checked_in_at = ?, checked_out_at = ?,
			duration_seconds = ?, expected_until = ?, sequence = ?, doc = ? WHERE id = ?`, append(args, id)...)
		tx.InsertEvents(events)
		return nil
	})
}

func (s accessStore) ListLogs(ctx context.Context, tenant auth.Tenant, f access.LogFilter) ([]*access.AccessLog, int, error) {
	l := List{Sel: SelectLog, Order: `checked_in_at DESC, id DESC`}
	l.Tenant(tenant)
	if f.Status != "" {
		l.And(`status = ?`, f.Status)
	}
	if f.Site != "" {
		l.And(`site = ?`, f.Site)
	}
	if f.Search != "" {
		l.And(s.d.Contains(`search`), strings.ToLower(f.Search))
	}
	if !f.From.IsZero() {
		l.And(`checked_in_at >= ?`, s.d.Time(f.From))
	}
	if !f.To.IsZero() {
		l.And(`checked_in_at <= ?`, s.d.Time(f.To))
	}
	return Page(ctx, s.d, ScanAccessLog, l, f.Offset, f.Limit)
}

func (s accessStore) OnSite(ctx context.Context, tenant auth.Tenant, site string) ([]*access.AccessLog, error) {
	l := List{Sel: SelectLog, Order: `checked_in_at, id`}
	l.Tenant(tenant)
	l.And(`status = 'checked_in'`)
	if site != "" {
		l.And(`site = ?`, site)
	}
	logs, err := All(ctx, s.d.Read(), ScanAccessLog, l)
	return logs, s.d.Translate(err)
}
