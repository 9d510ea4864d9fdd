package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

type incidentStore DB

const selectIncident = `SELECT id, org_id, environment, sequence, doc FROM incidents`

type rowScanner interface{ Scan(dest ...any) error }

func scanIncident(row rowScanner) (*incident.Incident, error) {
	var (
		inc incident.Incident
		env string
		doc string
		id  string
		org string
		seq int64
	)
	if err := row.Scan(&id, &org, &env, &seq, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &inc); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	inc.ID, inc.OrgID, inc.Environment, inc.Sequence = id, org, auth.Environment(env), seq
	return &inc, nil
}

func (s *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, ev outbox.Event) (*incident.Incident, bool, error) {
	doc, err := json.Marshal(inc)
	if err != nil {
		return nil, false, fmt.Errorf("encode incident: %w", err)
	}
	var existing *incident.Incident
	err = (*DB)(s).inTx(ctx, func(tx *sql.Tx) error {
		if inc.IdempotencyKey != nil {
			row := tx.QueryRowContext(ctx, selectIncident+` WHERE org_id = ? AND environment = ? AND idempotency_key = ?`,
				inc.OrgID, inc.Environment, *inc.IdempotencyKey)
			found, err := scanIncident(row)
			if err == nil {
				existing = found
				return nil
			}
			if !errors.Is(err, errNoRows) {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO incidents
			(id, org_id, environment, idempotency_key, category, severity, status, is_drill, sequence, created_at, updated_at, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inc.ID, inc.OrgID, inc.Environment, inc.IdempotencyKey, inc.Category, inc.Severity, inc.Status,
			inc.IsDrill, inc.Sequence, inc.CreatedAt.UnixMilli(), inc.UpdatedAt.UnixMilli(), string(doc))
		if err != nil {
			return err
		}
		return insertEvents(ctx, tx, []outbox.Event{ev})
	})
	if err != nil && inc.IdempotencyKey != nil && isUniqueViolation(err) {
		// Another process sharing the file won the race for this key between
		// our look-up and insert; its incident is the answer.
		if found, ferr := s.byIdempotencyKey(ctx, inc); ferr == nil {
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

func (s *incidentStore) byIdempotencyKey(ctx context.Context, inc *incident.Incident) (*incident.Incident, error) {
	row := s.read.QueryRowContext(ctx, selectIncident+` WHERE org_id = ? AND environment = ? AND idempotency_key = ?`,
		inc.OrgID, inc.Environment, *inc.IdempotencyKey)
	return scanIncident(row)
}

func (s *incidentStore) GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	inc, err := scanIncident(s.getIncident.QueryRowContext(ctx, id, tenant.OrgID, tenant.Env))
	if errors.Is(err, errNoRows) {
		return nil, incident.ErrNotFound
	}
	return inc, translate(err)
}

func (s *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	where := []string{"org_id = ?", "environment = ?"}
	args := []any{tenant.OrgID, tenant.Env}
	where, args = inList(where, args, "status", f.Statuses)
	where, args = inList(where, args, "category", f.Categories)
	where, args = inList(where, args, "severity", f.Severities)
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at <= ?"), append(args, f.To.UnixMilli())
	}
	cond := " WHERE " + strings.Join(where, " AND ")

	// Count and page in one read transaction, so both see the same snapshot.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, translate(err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM incidents`+cond, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	rows, err := tx.QueryContext(ctx, selectIncident+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var out []*incident.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, inc)
	}
	return out, total, translate(rows.Err())
}

// inList adds "column IN (?, ?...)" for a non-empty filter list.
func inList[T ~string](where []string, args []any, column string, values []T) ([]string, []any) {
	if len(values) == 0 {
		return where, args
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")
	for _, v := range values {
		args = append(args, string(v))
	}
	return append(where, column+" IN ("+marks+")"), args
}

func (s *incidentStore) UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Incident) ([]outbox.Event, error)) (*incident.Incident, error) {
	var out *incident.Incident
	err := (*DB)(s).inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanIncident(tx.QueryRowContext(ctx, selectIncident+` WHERE id = ? AND org_id = ? AND environment = ?`, id, tenant.OrgID, tenant.Env))
		if errors.Is(err, errNoRows) {
			return incident.ErrNotFound
		}
		if err != nil {
			return err
		}
		events, err := change(cur)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(cur)
		if err != nil {
			return fmt.Errorf("encode incident: %w", err)
		}
		// id, tenant and idempotency key are the row's identity and never change.
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET category = ?, severity = ?, status = ?, is_drill = ?,
			sequence = ?, updated_at = ?, doc = ? WHERE id = ?`,
			cur.Category, cur.Severity, cur.Status, cur.IsDrill, cur.Sequence, cur.UpdatedAt.UnixMilli(), string(doc), id); err != nil {
			return err
		}
		out = cur
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}
