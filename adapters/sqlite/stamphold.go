package sqlite

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// stampReader reads incident_stamp.n for the checks (stampcheck.go) on two
// connections in turn, and leaves the read transaction of each read open
// until the next read has begun its own: the statement is not reset, and
// an autocommit read transaction lasts until its statement is reset
// (sqlite.org/lang_transaction.html).
//
// Why: in WAL mode a read transaction holds a shared lock on one of the
// WAL index's read-mark slots. SQLite's unix and Windows VFSes count
// those locks per process and ask the operating system (fcntl,
// LockFileEx) only when the first connection of the process takes a slot
// and when the last one lets it go. A check alone took and released the
// lock itself: two system calls, half of a lone check's CPU (a lone get
// 3.9–4.2 µs of CPU before, 1.7–1.8 after: bench/README.md). While the
// last check's transaction is open, the next check, when nothing was
// committed meanwhile, begins on the same slot, which the process already
// holds, and the last one's end leaves it held by the new one: no system
// call. After a commit the next check needs a slot of its own as before.
//
// What still reads the stamp is a transaction that began after the
// check did, so the checks stay exact; only the lock is shared.
//
// An open read transaction keeps a checkpoint from copying the frames
// committed after it and the log from starting over. So a transaction is
// held only while it may still save a lock: the writer's commit hook
// lets it go before this process commits (committing), a check that
// follows a commit of this process holds nothing (read), and one that no
// check replaced within holdIdle is let go by a timer. Another process's
// commits make it stale too; the next check or the timer ends it. Only
// the checks' speed depends on the VFS sharing the lock; what they read
// does not.
type stampReader struct {
	db *sql.DB // two connections

	mu    sync.Mutex
	conns [2]*stampConn
	held  *stampConn // the connection whose read transaction is open, if any
	last  int        // the index of the connection read last
	// commits counts this process's commits (committing); gen is its
	// value when the last check began.
	commits atomic.Uint64
	gen     uint64
	reads   int // reads so far, for the idle timer
	seen    int // reads when the timer last looked
	timer   *time.Timer
	armed   bool
	// idleAfter is how long a read transaction no check replaced stays
	// open (holdIdle; tests set longer and call idle themselves).
	idleAfter time.Duration
	closed    bool
}

// holdIdle is how long a read transaction no check replaced stays open.
// A checkpoint copies what it kept back at the next tick (every 100 ms).
const holdIdle = 10 * time.Millisecond

// stampConn is one of the connections with the stamp's query prepared on
// its driver connection (used only inside conn.Raw).
type stampConn struct {
	conn *sql.Conn
	stmt sqldriver.StmtQueryContext
	rows sqldriver.Rows // the open read, if this connection holds one
	dest []sqldriver.Value
	read int64
	run  func(any) error // query
	end  func(any) error // close rows
}

func newStampReader(db *sql.DB) *stampReader {
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	r := &stampReader{db: db, idleAfter: holdIdle}
	r.timer = time.AfterFunc(time.Hour, r.idle)
	r.timer.Stop()
	return r
}

// read returns incident_stamp.n as a transaction that begins now sees it.
// It keeps that transaction open (the one held before ends) only while
// checks come more often than this process commits: after a commit a
// connection's page cache is stale, and its next read reads its pages
// again (page 1 and the stamp's, from the log); alternating connections
// after every commit would pay that twice. So a check that follows a
// commit of this process made since the check before it reads on the
// connection read last and ends its transaction at once, as a check
// without a second connection would; the next check, if no commit came
// between, begins holding again.
func (r *stampReader) read() (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, sql.ErrConnDone
	}
	gen := r.commits.Load()
	quiet := gen == r.gen // no commit of this process began since the last check did
	r.gen = gen
	i := r.last
	if r.held != nil {
		i = 1 - i // the held one is the last read: the other begins
	}
	c := r.conns[i]
	if c == nil {
		var err error
		if c, err = r.connect(); err != nil {
			return 0, err
		}
		r.conns[i] = c
	}
	err := c.conn.Raw(c.run)
	if err != nil {
		r.drop(i)
		r.releaseLocked()
		return 0, err
	}
	r.releaseLocked()
	r.last = i
	if !quiet || r.commits.Load() != gen { // or a commit began meanwhile (committing)
		if err := c.conn.Raw(c.end); err != nil {
			r.drop(i)
		}
		return c.read, nil
	}
	r.held = c
	r.reads++
	if !r.armed {
		r.armed = true
		r.seen = r.reads
		r.timer.Reset(r.idleAfter)
	}
	return c.read, nil
}

// committing is the writer's, before each commit: it counts the commit
// and ends the read transaction held, if any, whose snapshot would keep
// the commit from starting the log over. It does not wait for a check
// reading now (the writer would wait behind the gets): that check sees
// the count move and ends its own transaction.
func (r *stampReader) committing() {
	r.commits.Add(1)
	if r.mu.TryLock() {
		r.releaseLocked()
		r.mu.Unlock()
	}
}

func (r *stampReader) releaseLocked() {
	c := r.held
	if c == nil {
		return
	}
	r.held = nil
	if err := c.conn.Raw(c.end); err != nil {
		for i := range r.conns {
			if r.conns[i] == c {
				r.drop(i)
			}
		}
	}
}

// idle ends a read transaction that no check replaced since it last ran,
// or that a commit of this process made stale while its writer found a
// check under way (committing).
func (r *stampReader) idle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.reads != r.seen && r.held != nil && r.commits.Load() == r.gen {
		r.seen = r.reads
		r.timer.Reset(r.idleAfter)
		return
	}
	r.armed = false
	r.releaseLocked()
}

// query runs the stamp's statement, reads its row and leaves it open.
func (c *stampConn) query(any) error {
	rows, err := c.stmt.QueryContext(context.Background(), nil)
	if err != nil {
		return err
	}
	err = rows.Next(c.dest)
	if errors.Is(err, io.EOF) {
		err = errors.New("sqlite: incident_stamp has no row")
	}
	if err == nil {
		n, ok := c.dest[0].(int64)
		if !ok {
			err = fmt.Errorf("sqlite: incident_stamp.n is %T", c.dest[0])
		}
		c.read = n
	}
	if err != nil {
		_ = rows.Close()
		return err
	}
	c.rows = rows
	return nil
}

// close ends the read held on c.
func (c *stampConn) close(any) error {
	rows := c.rows
	c.rows = nil
	if rows == nil {
		return nil
	}
	return rows.Close()
}

func (r *stampReader) connect() (*stampConn, error) {
	conn, err := r.db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	c := &stampConn{conn: conn, dest: make([]sqldriver.Value, 1)}
	c.run, c.end = c.query, c.close
	if c.stmt, err = prepareOn(context.Background(), conn, readStamp); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// drop closes connection i; the next read on it opens another.
func (r *stampReader) drop(i int) {
	c := r.conns[i]
	if c == nil {
		return
	}
	r.conns[i] = nil
	if r.held == c {
		r.held = nil
	}
	_ = c.conn.Raw(func(any) error {
		_ = c.close(nil)
		return c.stmt.(sqldriver.Stmt).Close()
	})
	_ = c.conn.Close()
}

// Close ends the read held and closes the connections.
func (r *stampReader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.timer.Stop()
	r.releaseLocked()
	for i := range r.conns {
		r.drop(i)
	}
	r.mu.Unlock()
	return r.db.Close()
}
