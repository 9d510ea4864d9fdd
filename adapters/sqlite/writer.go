package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. Every write transaction (inTx) is queued to one goroutine,
// the writer, which owns SQLite's single write connection. When it is free
// it takes whatever is queued (up to maxBatch, without waiting for more) and
// runs it as one SQLite transaction:
//
//	BEGIN IMMEDIATE
//	SAVEPOINT m; <first caller's statements>; RELEASE m
//	SAVEPOINT m; <second caller's statements>; ROLLBACK TO m; RELEASE m   -- it failed
//	...
//	COMMIT
//
// Each caller's work sees the work of those before it in the batch, as if
// they had committed one by one, and a caller that fails (an error or a
// panic in its callback) is rolled back alone. Nobody is answered before
// the COMMIT that holds their change has returned, so with synchronous=FULL
// an answered write is on disk. If the batch cannot be committed (or SQLite
// aborted the transaction under it), the whole transaction is rolled back
// and every caller in it gets the error. One commit (one fsync) then serves
// the batch: under load the commits per second stay what the disk allows
// and the writes per commit grow. The writer never waits for a batch to
// fill: at low load a batch is one transaction, committed at once.
//
// Callbacks run on the writer goroutine, one after another. A callback must
// not wait for another write (a nested inTx, a lock held by a goroutine
// that is waiting for its own write): the writer would wait for itself, as
// a callback holding the one write connection did before batching.

// maxBatch caps the transactions one commit carries, so one batch cannot
// hold the write lock (and its callers' answers) for long.
const maxBatch = 128

// maxStmts caps the statements the writer keeps prepared. The queries of
// this package are constants, so the cap is only a guard.
const maxStmts = 256

var errClosed = errors.New("sqlite: database is closed")

// A request is one caller's transaction, waiting for the writer.
type request struct {
	ctx   context.Context
	fn    func(*writeTx) error
	state atomic.Int32 // queued, then taken by the writer or abandoned by the caller
	err   error        // the outcome; read after done is closed
	done  chan struct{}
}

const (
	queued int32 = iota
	taken
	abandoned
)

// writer owns the write connection and runs queued transactions in
// batches.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // prepared on conn; used by the writer goroutine only

	mu     sync.Mutex
	queue  []*request
	closed bool
	wake   chan struct{} // capacity 1: something was queued, or Close was called
	exited chan struct{}

	// observe, when set, hears every committed batch's size and how long
	// it took from BEGIN to the end of COMMIT (metrics).
	observe atomic.Pointer[func(size int, took time.Duration)]
}

func newWriter(conn *sql.Conn) *writer {
	w := &writer{conn: conn, stmts: map[string]*sql.Stmt{}, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go w.run()
	return w
}

// do queues fn and waits for the outcome of the batch that runs it. If ctx
// ends while fn is still queued, fn never runs and do returns ctx.Err();
// once the writer has started fn, do waits for its batch's commit and
// returns its outcome, whatever ctx does meanwhile (fn's statements are not
// interrupted: interrupting SQLite mid-statement can roll back the whole
// transaction, which the other callers in the batch share).
func (w *writer) do(ctx context.Context, fn func(*writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errClosed
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	w.signal()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
		<-r.done
		return r.err
	}
}

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close lets the writer finish what is queued, stops it and refuses new
// requests.
func (w *writer) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	w.signal()
	<-w.exited
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, w.conn.Close())...)
}

func (w *writer) run() {
	defer close(w.exited)
	for {
		batch := w.next()
		if batch == nil {
			return
		}
		w.commit(batch)
	}
}

// next waits for work and takes up to maxBatch queued requests, oldest
// first; nil when the writer is closed and the queue is empty.
func (w *writer) next() []*request {
	for {
		w.mu.Lock()
		if n := len(w.queue); n > 0 {
			k := min(n, maxBatch)
			batch := make([]*request, k)
			copy(batch, w.queue)
			rest := copy(w.queue, w.queue[k:])
			clear(w.queue[rest:])
			w.queue = w.queue[:rest]
			w.mu.Unlock()
			return batch
		}
		closed := w.closed && len(w.queue) == 0
		w.mu.Unlock()
		if closed {
			return nil
		}
		<-w.wake
	}
}

// commit runs batch in one transaction and answers every request in it.
func (w *writer) commit(batch []*request) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(queued, taken) { // else its caller has left
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	defer func() {
		for _, r := range live {
			close(r.done)
		}
	}()
	failAll := func(err error) {
		err = translate(err)
		for _, r := range live {
			r.err = err
		}
	}
	began := time.Now()
	if err := w.control("BEGIN IMMEDIATE"); err != nil {
		failAll(err)
		return
	}
	for _, r := range live {
		if err := r.ctx.Err(); err != nil {
			r.err = err // its caller gave up before it started: skip it
			continue
		}
		if err := w.control("SAVEPOINT m"); err != nil {
			w.abort(err, failAll)
			return
		}
		r.err = w.call(r)
		if r.err != nil {
			if mayEndTransaction(r.err) {
				// SQLite may have rolled the whole transaction back (an
				// I/O error, a full disk, no memory): the earlier
				// callers' work may be gone with it, so the batch fails
				// as a whole rather than go on as if only this caller's
				// savepoint were undone.
				w.abort(r.err, failAll)
				return
			}
			if err := w.control("ROLLBACK TO m"); err != nil {
				// SQLite ended the transaction itself (an I/O error, a full
				// disk): the earlier callers' work is gone with it.
				w.abort(err, failAll)
				return
			}
		}
		if err := w.control("RELEASE m"); err != nil {
			w.abort(err, failAll)
			return
		}
	}
	if err := w.control("COMMIT"); err != nil {
		w.abort(err, failAll)
		return
	}
	if observe := w.observe.Load(); observe != nil {
		(*observe)(len(live), time.Since(began))
	}
}

// abort rolls the batch's transaction back and fails every request in it
// with err.
func (w *writer) abort(err error, failAll func(error)) {
	_ = w.control("ROLLBACK") // fails harmlessly if SQLite already rolled back
	failAll(err)
}

// call runs r's callback; a panic in it fails r alone.
func (w *writer) call(r *request) (err error) {
	tx := &writeTx{w: w, ctx: context.WithoutCancel(r.ctx)}
	defer func() {
		tx.w = nil // the transaction ends with the callback
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in a write transaction: %v\n%s", p, debug.Stack())
		}
	}()
	if err := r.fn(tx); err != nil {
		return err
	}
	return tx.deferred
}

// control runs a statement that steers the batch's transaction.
func (w *writer) control(query string) error {
	_, err := w.exec(context.Background(), query)
	return err
}

// exec runs a statement on the write connection, prepared once.
func (w *writer) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := w.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return w.conn.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// prepared returns query prepared on the write connection, once; nil when
// the cache is full.
func (w *writer) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := w.stmts[query]
	if !ok {
		if len(w.stmts) >= maxStmts {
			return nil, nil
		}
		var err error
		if st, err = w.conn.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		w.stmts[query] = st
	}
	return st, nil
}

// writeTx is one caller's part of a batch: its statements run on the write
// connection inside the caller's savepoint. It is valid only while the
// callback it was passed to runs; using it later is a bug and panics. The
// contexts its methods take are used for their values only: a statement is
// never interrupted (see writer.do).
type writeTx struct {
	dialect
	w        *writer
	ctx      context.Context // the caller's, without its cancellation
	deferred error           // of a statement Later ran; it fails the transaction
}

func (tx *writeTx) writer() *writer {
	if tx.w == nil {
		panic("sqlite: write transaction used after its callback returned")
	}
	return tx.w
}

// ExecContext runs a statement that returns no rows; the writer keeps it
// prepared for the next caller.
func (tx *writeTx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return tx.writer().exec(tx.ctx, query, args...)
}

// execOnce runs statements (a script) not worth keeping prepared.
func (tx *writeTx) execOnce(query string, args ...any) (sql.Result, error) {
	return tx.writer().conn.ExecContext(tx.ctx, query, args...)
}

// QueryContext runs a query. Queries are not taken from the prepared
// statements: a statement's rows may still be open when its query runs
// again.
func (tx *writeTx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.writer().conn.QueryContext(tx.ctx, query, args...)
}

// QueryRowContext runs a query of at most one row.
func (tx *writeTx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return tx.writer().conn.QueryRowContext(tx.ctx, query, args...)
}

// hot returns a querier for queries that run on every call of a hot path
// (the webhook worker's claim): it keeps them prepared. Its caller must
// read each query's rows to the end and close them (queryAll and Row.Scan
// do) before the same query runs again.
func (tx *writeTx) hot() querier { return hotQueries{tx} }

type hotQueries struct{ tx *writeTx }

func (h hotQueries) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	w := h.tx.writer()
	st, err := w.prepared(h.tx.ctx, query)
	if err != nil || st == nil {
		return w.conn.QueryContext(h.tx.ctx, query, args...)
	}
	return st.QueryContext(h.tx.ctx, args...)
}

func (h hotQueries) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	w := h.tx.writer()
	st, err := w.prepared(h.tx.ctx, query)
	if err != nil || st == nil {
		return w.conn.QueryRowContext(h.tx.ctx, query, args...)
	}
	return st.QueryRowContext(h.tx.ctx, args...)
}
