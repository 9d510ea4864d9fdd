package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// readPool is the read connections with every query prepared once and
// kept, as the writer keeps its statements. SQLite parses a statement
// anew on each unprepared query, and for our short indexed reads the
// parse costs more than the read: a CPU profile of create-incident spent
// 18% of the process in SQLite's parser for the dispatch searches alone.
//
// database/sql prepares a kept statement on each pool connection the first
// time it runs there, so a statement costs one parse per connection. The
// cache is bounded (queries with a variable IN list make new texts); past
// maxStmts, queries run unprepared as before.
type readPool struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxStmts caps the statements the read pool keeps prepared. The queries
// of this package are constants but for the variable IN lists, so the cap
// is only a guard.
const maxStmts = 256

func newReadPool(db *sql.DB) *readPool { return &readPool{DB: db, stmts: map[string]*sql.Stmt{}} }

// stmt returns query prepared, or nil when the cache is full or the query
// does not prepare (the unprepared run then reports why).
func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	st, ok := p.stmts[query]
	p.mu.RUnlock()
	if ok {
		return st
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st
	}
	if len(p.stmts) >= maxStmts {
		return nil
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.stmts[query] = st
	return st
}

func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the kept statements, then the connections.
func (p *readPool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	return errors.Join(append(errs, p.DB.Close())...)
}
