package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/sety-io/sety/auth"
)

// List is a query of many rows: those of Sel (a "SELECT columns FROM
// table" constant) that match every condition, sorted by Order. Its
// conditions take their arguments at ? placeholders, in order: SQLite's
// own; the PostgreSQL adapter numbers them (Numbered) as it sends a query.
type List struct {
	Sel   string
	Conds []string
	Args  []any
	Order string

	// Total, when set, is the query of how many rows match (with
	// TotalArgs), another way than counting them; by default they are
	// counted.
	Total     string
	TotalArgs []any
}

// And adds a condition with the arguments of its placeholders.
func (l *List) And(cond string, args ...any) {
	l.Conds, l.Args = append(l.Conds, cond), append(l.Args, args...)
}

// Tenant adds the condition of the tenant's rows.
func (l *List) Tenant(t auth.Tenant) {
	l.And(`org_id = ? AND environment = ?`, t.OrgID, string(t.Env))
}

// Where is the WHERE clause of the conditions; "" for none.
func (l *List) Where() string { return Where(l.Conds) }

// Query is the select of every matching row, in order; its arguments are
// Args.
func (l *List) Query() string { return l.Sel + l.Where() + ` ORDER BY ` + l.Order }

// Count is the query of how many rows match, and its arguments: Total, or
// a count of the matching rows of Sel's table.
func (l *List) Count() (string, []any) {
	if l.Total != "" {
		return l.Total, l.TotalArgs
	}
	_, from, _ := strings.Cut(l.Sel, " FROM ")
	return `SELECT count(*) FROM ` + from + l.Where(), l.Args
}

// Page is the select of the page [offset, offset+limit) of the matching
// rows, in order, and its arguments.
func (l *List) Page(offset, limit int) (string, []any) {
	args := make([]any, 0, len(l.Args)+2)
	return l.Query() + ` LIMIT ? OFFSET ?`, append(append(args, l.Args...), limit, offset)
}

// In adds the condition that column is one of values (in the dialect's
// spelling), for a non-empty filter list; an empty one adds nothing.
func In[V ~string](l *List, d Dialect, column string, values []V) {
	if len(values) == 0 {
		return
	}
	cond, array := d.In(column, len(values))
	if array {
		strs := make([]string, len(values))
		for i, v := range values {
			strs[i] = string(v)
		}
		l.And(cond, strs)
		return
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	l.And(cond, args...)
}

// All returns every row of l, read through q.
func All[T any](ctx context.Context, q Querier, scan func(RowScanner) (T, error), l List) ([]T, error) {
	return QueryAll(ctx, q, scan, l.Query(), l.Args...)
}

// Page returns the page [offset, offset+limit) of l and how many rows
// match in all, both from one snapshot.
func Page[T any](ctx context.Context, d Driver, scan func(RowScanner) (T, error), l List, offset, limit int) ([]T, int, error) {
	count, countArgs := l.Count()
	page, pageArgs := l.Page(offset, limit)
	var out []T
	total, err := d.CountAndPage(ctx, Stmt{count, countArgs}, Stmt{page, pageArgs}, func(rows Rows) error {
		var err error
		out, err = Collect(rows, scan)
		return err
	})
	if err != nil {
		return nil, 0, d.Translate(err)
	}
	return out, total, nil
}

// Numbered rewrites the ? placeholders of query to PostgreSQL's $1, $2, …
// in order. It knows nothing of SQL: query must hold no other ? (in a
// string, or as an operator).
func Numbered(query string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteString("$" + strconv.Itoa(n))
		query = query[i+1:]
	}
}
