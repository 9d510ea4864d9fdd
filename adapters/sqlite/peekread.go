package sqlite

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
)

// peekReaders are the connections PeekIncident (get-incident) reads its
// one row on, each with the query prepared on the driver's connection and
// run there directly (database/sql's documented Conn.Raw), not through the
// pool's per-query machinery. A profile of get-incident put a third of the
// row read in database/sql and in the watchers of the request's context:
// for a query with a cancellable context, database/sql and the driver each
// start a goroutine that waits for the context to end, and the driver
// installs and removes a progress handler around the statement. A one-row
// read by primary key is over in microseconds, so it runs with no context
// to watch (a wait for a lock is still bounded by busy_timeout).
//
// The connections are opened as the read pool's are (query_only, the same
// pragmas), on a database/sql pool of their own so that a get never waits
// for a list or a long report on the read pool, and are kept: up to
// maxPeekConns, one per concurrent get.
type peekReaders struct {
	db  *sql.DB
	max int // connections at most

	free chan *peekConn // the connections not in use (capacity max)

	mu     sync.Mutex
	open   int
	closed bool
}

// peekConn is one kept connection and the statement prepared on it, with
// what one read on it uses: set before conn.Raw runs query (a method value
// made once, so that a read allocates no closure) and cleared after.
type peekConn struct {
	conn *sql.Conn
	stmt sqldriver.StmtQueryContext // prepared on conn's driver connection: used only inside conn.Raw
	dest []sqldriver.Value          // the row's columns, reused
	args []sqldriver.NamedValue     // the query's arguments, reused
	run  func(any) error            // c.query

	kept sqlstore.IncidentRow // the texts kept for the id, "" if none
	row  sqlstore.IncidentRow // the row read
	at   int64                // the incident stamp it was read at
}

// peekArgs are selectPeek's arguments for a row kept: made (boxed) once
// per kept row, not at every read.
type peekArgs [5]sqldriver.Value

func peekArgsOf(r sqlstore.IncidentRow) peekArgs {
	return peekArgs{r.Tracking, r.Doc, r.ID, r.OrgID, r.Environment}
}

// selectPeek reads what PeekIncident compares and decodes. Its first two
// arguments are the tracking and document text kept for the id
// (decoded.go), or NULL: a column whose text is the kept text comes back
// NULL (both are NOT NULL columns), so the driver copies a row's text into
// Go only when it changed. That copy, a new string of about 1.3 KB per get,
// was a fifth of the bytes a get allocated. SQLite compares the texts
// itself, so what decides is still what the row holds now, whoever wrote
// it. The id, organization and environment are the last three arguments.
// The parameters are plain ?s, numbered in the order they appear (a
// numbered ?NNN costs the driver a copy of its name at every bind). The
// last column is the incident stamp, read in the same statement, so of
// the same snapshot as the row (stamp.go).
const selectPeek = `SELECT sequence,
	CASE WHEN tracking = ? THEN NULL ELSE tracking END AS tracking,
	CASE WHEN doc = ? THEN NULL ELSE doc END AS doc,
	(SELECT n FROM incident_stamp WHERE id = 1) AS stamp
	FROM incidents` + sqlstore.ByTenantID

func newPeekReaders(db *sql.DB, max int) *peekReaders {
	db.SetMaxOpenConns(max)
	db.SetMaxIdleConns(max)
	return &peekReaders{db: db, max: max, free: make(chan *peekConn, max)}
}

// read returns the tenant's incident row id and the incident stamp it was
// read at, or sql.ErrNoRows. kept is the value kept for id, if ok: a
// column that still holds kept's text is given kept's string, not a copy.
func (p *peekReaders) read(ctx context.Context, id, org, env string, kept decodedIncident, ok bool) (sqlstore.IncidentRow, int64, error) {
	c, err := p.take(ctx)
	if err != nil {
		return sqlstore.IncidentRow{}, 0, err
	}
	c.row = sqlstore.IncidentRow{ID: id, OrgID: org, Environment: env}
	c.args[0].Value, c.args[1].Value = nil, nil
	if ok {
		c.kept = kept.row
		c.args[0].Value, c.args[1].Value = kept.args[0], kept.args[1]
	}
	if ok && kept.row.ID == id && kept.row.OrgID == org && kept.row.Environment == env {
		c.args[2].Value, c.args[3].Value, c.args[4].Value = kept.args[2], kept.args[3], kept.args[4]
	} else {
		c.args[2].Value, c.args[3].Value, c.args[4].Value = id, org, env
	}
	err = c.conn.Raw(c.run)
	r, at := c.row, c.at
	c.row, c.kept, c.at = sqlstore.IncidentRow{}, sqlstore.IncidentRow{}, 0
	for i := range c.args {
		c.args[i].Value = nil // keep no text alive
	}
	p.put(c, err)
	return r, at, err
}

// query runs selectPeek with c.args on the driver's connection and sets
// c.row's columns.
func (c *peekConn) query(any) error {
	rows, err := c.stmt.QueryContext(context.Background(), c.args)
	if err != nil {
		return err
	}
	err = rows.Next(c.dest)
	if errors.Is(err, io.EOF) {
		err = sql.ErrNoRows
	}
	if err == nil {
		err = c.columns()
	}
	clear(c.dest) // keep no row's text alive
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// columns sets c.row's columns from c.dest; a NULL text column holds the
// kept text.
func (c *peekConn) columns() error {
	r := &c.row
	seq, ok := c.dest[0].(int64)
	if !ok {
		return fmt.Errorf("sqlite: incident %s: sequence is %T", r.ID, c.dest[0])
	}
	r.Sequence = seq
	if c.at, ok = c.dest[3].(int64); !ok {
		return fmt.Errorf("sqlite: incident %s: stamp is %T", r.ID, c.dest[3])
	}
	var err error
	if r.Tracking, err = text(c.dest[1], c.kept.Tracking); err != nil {
		return fmt.Errorf("sqlite: incident %s: tracking: %w", r.ID, err)
	}
	if r.Doc, err = text(c.dest[2], c.kept.Doc); err != nil {
		return fmt.Errorf("sqlite: incident %s: doc: %w", r.ID, err)
	}
	return nil
}

// text is a TEXT column's value as the driver gives it, or same when the
// query gave NULL for "the same text as the kept one".
func text(v sqldriver.Value, same string) (string, error) {
	switch v := v.(type) {
	case nil:
		return same, nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("%T, not text", v)
}

// take returns a free connection, opening one while fewer than max are
// open, else waiting for one to come back.
func (p *peekReaders) take(ctx context.Context) (*peekConn, error) {
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, sql.ErrConnDone
	}
	if p.open < p.max {
		p.open++
		p.mu.Unlock()
		c, err := p.connect(ctx)
		if err != nil {
			p.mu.Lock()
			p.open--
			p.mu.Unlock()
		}
		return c, err
	}
	p.mu.Unlock()
	select {
	case c := <-p.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// connect opens a connection and prepares the query on it.
func (p *peekReaders) connect(ctx context.Context) (*peekConn, error) {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c := &peekConn{conn: conn, dest: make([]sqldriver.Value, 4), args: make([]sqldriver.NamedValue, 5)}
	c.run = c.query
	for i := range c.args {
		c.args[i].Ordinal = i + 1
	}
	if c.stmt, err = prepareOn(ctx, conn, selectPeek); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// prepareOn prepares query on conn's driver connection, for use only
// inside conn.Raw (peekread.go's reads and stampcheck.go's checks).
func prepareOn(ctx context.Context, conn *sql.Conn, query string) (stmt sqldriver.StmtQueryContext, err error) {
	err = conn.Raw(func(dc any) error {
		prep, ok := dc.(sqldriver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("sqlite: the driver's connection (%T) prepares no statement with a context", dc)
		}
		st, err := prep.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		if stmt, ok = st.(sqldriver.StmtQueryContext); !ok {
			st.Close()
			return fmt.Errorf("sqlite: the driver's statement (%T) takes no context", st)
		}
		return nil
	})
	return stmt, err
}

// put gives c back after a read that ended with err. A connection the
// driver calls broken is replaced by a new one; one given back after
// Close is closed.
func (p *peekReaders) put(c *peekConn, err error) {
	if errors.Is(err, sqldriver.ErrBadConn) {
		c.close()
		if c, err = p.connect(context.Background()); err != nil {
			p.mu.Lock()
			p.open--
			p.mu.Unlock()
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.open--
		c.close()
		return
	}
	p.free <- c // never blocks: at most max connections are open
}

func (c *peekConn) close() {
	_ = c.conn.Raw(func(any) error { return c.stmt.(sqldriver.Stmt).Close() })
	_ = c.conn.Close()
}

// Close closes the free connections and the pool; a connection in use is
// closed when its read gives it back.
func (p *peekReaders) Close() error {
	p.mu.Lock()
	p.closed = true
	for len(p.free) > 0 {
		c := <-p.free
		p.open--
		c.close()
	}
	p.mu.Unlock()
	return p.db.Close()
}
