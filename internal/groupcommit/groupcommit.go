// Package groupcommit is SQLite's group commit: one goroutine owns the
// single write connection and commits the transactions queued meanwhile
// together, each in its own savepoint, with one fsync. The SQLite adapter
// runs every write through it; bench/baseline's durable server uses it too,
// so that the benchmark's floor pays for the same commits Sety does.
package groupcommit

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/sety-io/sety/setyerr"
)

// Group commit. Every write transaction (Do) is queued to one goroutine,
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
// On some errors (an I/O error, a full disk, out of memory) SQLite rolls
// the whole transaction back itself, with the work of every caller before
// in the batch. The writer hears of it from SQLite's rollback hook: it then
// runs nothing more of the batch (a statement would run outside any
// transaction and commit on its own), tries no ROLLBACK TO, and fails every
// caller in the batch with the error. After an error that may yet end the
// transaction (mayEndTransaction) it fails the batch as well, hook or not.
//
// Callbacks run on the writer goroutine, one after another. A callback must
// not wait for another write (a nested Do, a lock held by a goroutine
// that is waiting for its own write): the writer would wait for itself, as
// a callback holding the one write connection did before batching.

// maxBatch caps the transactions one commit carries, so one batch cannot
// hold the write lock (and its callers' answers) for long.
const maxBatch = 128

// maxStmts caps the statements the writer keeps prepared. The queries of
// this package are constants, so the cap is only a guard.
const maxStmts = 256

// ErrClosed is what a write queued after Close returns.
var ErrClosed = errors.New("sqlite: database is closed")

// ErrLost is the error of a batch whose transaction SQLite rolled back
// under it when no statement reported why.
var ErrLost error = setyerr.E(setyerr.Unavailable, "storage unavailable: SQLite rolled the transaction back")

// A request is one caller's transaction, waiting for the writer.
type request struct {
	ctx   context.Context
	fn    func(*Tx) error
	state atomic.Int32 // queued, then taken by the writer or abandoned by the caller
	err   error        // the outcome; read after done is closed
	done  chan struct{}
}

const (
	queued int32 = iota
	taken
	abandoned
)

// Writer owns the write connection and runs queued transactions in
// batches.
type Writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // prepared on conn; used by the writer goroutine only

	// translate maps the error of a failed batch (BEGIN, a savepoint,
	// COMMIT) to what its callers get.
	translate func(error) error

	mu     sync.Mutex
	queue  []*request
	ckpts  []*ckptRequest // checkpoints to run between two batches (Checkpoint)
	closed bool
	wake   chan struct{} // capacity 1: something was queued, or Close was called
	exited chan struct{}

	// lost is set by SQLite's rollback hook when the batch's transaction
	// is rolled back (by SQLite itself after an error, or by a ROLLBACK),
	// and cleared at each BEGIN: while it is set, nothing more of the
	// batch runs.
	lost atomic.Bool

	// observe, when set, hears every committed batch's size and how long
	// it took from BEGIN to the end of COMMIT (metrics).
	observe atomic.Pointer[func(size int, took time.Duration)]

	// batches counts the batches begun (the writer goroutine alone uses
	// it) and undone the rollbacks run or seen (ROLLBACK TO a caller's
	// savepoint, a batch's ROLLBACK, SQLite's own, which the rollback hook
	// hears): Tx.Batch and Tx.Undone.
	batches uint64
	undone  atomic.Uint64

	// hook, when set, runs at the end of every batch (OnCommit).
	hook atomic.Pointer[CommitHook]
}

// CommitHook runs at the end of every batch, in its transaction, just
// before COMMIT; an error fails the batch. The function it returns hears
// whether the COMMIT succeeded, before any caller of the batch is
// answered: what it records is in place when a caller learns its write is
// durable.
type CommitHook func(tx *Tx) (done func(committed bool), err error)

// OnCommit sets the hook every later batch runs (nil: none).
func (w *Writer) OnCommit(h CommitHook) {
	if h == nil {
		w.hook.Store(nil)
		return
	}
	w.hook.Store(&h)
}

// New starts the writer of conn, which it owns from now on: every write
// goes through Do. translate maps the error of a batch that cannot commit
// to what its callers get (nil: as it is). It fails if the driver's
// connection takes no rollback hook.
func New(conn *sql.Conn, translate func(error) error) (*Writer, error) {
	if translate == nil {
		translate = func(err error) error { return err }
	}
	w := &Writer{conn: conn, stmts: map[string]*sql.Stmt{}, translate: translate, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	// The rollback hook is called for a rollback of the whole transaction,
	// never for ROLLBACK TO a savepoint.
	err := conn.Raw(func(dc any) error {
		hooks, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("sqlite: the driver's connection (%T) takes no rollback hook", dc)
		}
		hooks.RegisterRollbackHook(func() { w.lost.Store(true); w.undone.Add(1) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

// Do queues fn and waits for the outcome of the batch that runs it. If ctx
// ends while fn is still queued, fn never runs and do returns ctx.Err();
// once the writer has started fn, Do waits for its batch's commit and
// returns its outcome, whatever ctx does meanwhile (fn's statements are not
// interrupted: interrupting SQLite mid-statement can roll back the whole
// transaction, which the other callers in the batch share).
func (w *Writer) Do(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
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

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close lets the writer finish what is queued, stops it and refuses new
// requests.
func (w *Writer) Close() error {
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

func (w *Writer) run() {
	defer close(w.exited)
	for {
		batch, ckpts := w.next()
		if batch == nil && ckpts == nil {
			return
		}
		if len(batch) > 0 {
			w.commit(batch)
		}
		for _, c := range ckpts {
			w.checkpoint(c)
		}
	}
}

// next waits for work and takes up to maxBatch queued requests, oldest
// first, and the checkpoints asked for; nil and nil when the writer is
// closed and nothing is queued.
func (w *Writer) next() ([]*request, []*ckptRequest) {
	for {
		w.mu.Lock()
		ckpts := w.ckpts
		w.ckpts = nil
		if n := len(w.queue); n > 0 {
			k := min(n, maxBatch)
			batch := make([]*request, k)
			copy(batch, w.queue)
			rest := copy(w.queue, w.queue[k:])
			clear(w.queue[rest:])
			w.queue = w.queue[:rest]
			w.mu.Unlock()
			return batch, ckpts
		}
		closed := w.closed && len(w.queue) == 0
		w.mu.Unlock()
		if ckpts != nil {
			return nil, ckpts
		}
		if closed {
			return nil, nil
		}
		<-w.wake
	}
}

// A ckptRequest is a checkpoint waiting for the writer (Checkpoint).
type ckptRequest struct {
	logFrames, copied int
	err               error
	done              chan struct{}
}

// Checkpoint runs a PASSIVE checkpoint on the write connection, between
// two batches, and returns the log's frames and those copied into the
// database, as PRAGMA wal_checkpoint does. No commit lands while it runs,
// so it copies every frame that no reader of an older snapshot still
// needs: a log that another connection's checkpoints never catch up with
// under a steady load (a commit lands while they copy) is then complete,
// and the next commit starts it over (cut back to journal_size_limit)
// unless a reader still reads from it. The writer waits for the copying
// of the frames committed since the last checkpoint and the database's
// sync, and for no reader: what a RESTART checkpoint from another
// connection held it back for (up to its busy timeout, waiting for the
// readers) is what this spares (the Checkpointer tries it first).
func (w *Writer) Checkpoint() (logFrames, copied int, err error) {
	c := &ckptRequest{done: make(chan struct{})}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, 0, ErrClosed
	}
	w.ckpts = append(w.ckpts, c)
	w.mu.Unlock()
	w.signal()
	<-c.done
	return c.logFrames, c.copied, c.err
}

func (w *Writer) checkpoint(c *ckptRequest) {
	defer close(c.done)
	var busy int
	c.err = w.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &c.logFrames, &c.copied)
}

// commit runs batch in one transaction and answers every request in it.
func (w *Writer) commit(batch []*request) {
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
		err = w.translate(err)
		for _, r := range live {
			r.err = err
		}
	}
	began := time.Now()
	w.lost.Store(false)
	w.batches++
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
		if w.lost.Load() {
			// SQLite ended the transaction itself (an I/O error, a full
			// disk, out of memory), as its rollback hook says: the earlier
			// callers' work is gone with it, and there is no savepoint to
			// roll back to.
			failAll(cmp.Or(r.err, ErrLost))
			return
		}
		if r.err != nil {
			if mayEndTransaction(r.err) {
				// The hook did not fire, but after such an error SQLite
				// may yet end the transaction at its next statement (a
				// busy or interrupted one, on no memory): the batch fails
				// as a whole rather than go on as if only this caller's
				// savepoint were undone.
				w.abort(r.err, failAll)
				return
			}
			w.undone.Add(1)
			if err := w.control("ROLLBACK TO m"); err != nil {
				w.abort(err, failAll)
				return
			}
		}
		if err := w.control("RELEASE m"); err != nil {
			w.abort(err, failAll)
			return
		}
	}
	done, err := w.beforeCommit()
	if err != nil {
		w.abort(err, failAll)
		return
	}
	if err := w.control("COMMIT"); err != nil {
		done(false)
		w.abort(err, failAll)
		return
	}
	done(true)
	if observe := w.observe.Load(); observe != nil {
		(*observe)(len(live), time.Since(began))
	}
}

// beforeCommit runs the commit hook, if any, in the batch's transaction.
func (w *Writer) beforeCommit() (done func(committed bool), err error) {
	nothing := func(bool) {}
	h := w.hook.Load()
	if h == nil {
		return nothing, nil
	}
	tx := &Tx{w: w, ctx: context.Background()}
	defer func() {
		tx.w = nil
		if p := recover(); p != nil {
			done, err = nil, fmt.Errorf("sqlite: panic in the commit hook: %v\n%s", p, debug.Stack())
		}
	}()
	done, err = (*h)(tx)
	if err == nil && w.lost.Load() {
		err = ErrLost
	}
	if err != nil {
		if done != nil {
			done(false)
		}
		return nil, err
	}
	if done == nil {
		return nothing, nil
	}
	return done, nil
}

// abort rolls the batch's transaction back and fails every request in it
// with err.
func (w *Writer) abort(err error, failAll func(error)) {
	w.undone.Add(1)
	_ = w.control("ROLLBACK") // fails harmlessly if SQLite already rolled back
	failAll(err)
}

// call runs r's callback; a panic in it fails r alone.
func (w *Writer) call(r *request) (err error) {
	tx := &Tx{w: w, ctx: context.WithoutCancel(r.ctx)}
	defer func() {
		tx.w = nil // the transaction ends with the callback
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in a write transaction: %v\n%s", p, debug.Stack())
		}
	}()
	return r.fn(tx)
}

// control runs a statement that steers the batch's transaction.
func (w *Writer) control(query string) error {
	_, err := w.exec(context.Background(), query)
	return err
}

// exec runs a statement on the write connection, prepared once.
func (w *Writer) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
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
func (w *Writer) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
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

// Tx is one caller's part of a batch: its statements run on the write
// connection inside the caller's savepoint. It is valid only while the
// callback it was passed to runs; using it later is a bug and panics. The
// contexts its methods take are used for their values only: a statement is
// never interrupted (see Writer.Do).
type Tx struct {
	w   *Writer
	ctx context.Context // the caller's, without its cancellation
}

func (tx *Tx) writer() *Writer {
	if tx.w == nil {
		panic("sqlite: write transaction used after its callback returned")
	}
	return tx.w
}

// Err is ErrLost once SQLite has rolled the batch's transaction back (a
// statement then would run, and commit, on its own), nil before.
func (tx *Tx) Err() error {
	_, err := tx.open()
	return err
}

// Batch numbers the writer's batches: every Tx of one batch has the same
// number, and a later batch a higher one. What a caller read in the batch
// holds until its end unless the batch changes it itself: the batch holds
// SQLite's write lock from BEGIN IMMEDIATE to COMMIT, so no other
// connection commits meanwhile.
func (tx *Tx) Batch() uint64 { return tx.writer().batches }

// Undone counts the rollbacks the writer has run or seen: a caller's
// savepoint rolled back, a batch's transaction rolled back (by the writer
// or by SQLite itself). Whatever a caller read of the database since the
// count it saw may have been undone once the count has grown.
func (tx *Tx) Undone() uint64 { return tx.writer().undone.Load() }

// open returns the writer, or ErrLost once SQLite has rolled the batch's
// transaction back: a statement then would run, and commit, on its own.
func (tx *Tx) open() (*Writer, error) {
	w := tx.writer()
	if w.lost.Load() {
		return nil, ErrLost
	}
	return w, nil
}

// ExecContext runs a statement that returns no rows; the writer keeps it
// prepared for the next caller.
func (tx *Tx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	w, err := tx.open()
	if err != nil {
		return nil, err
	}
	return w.exec(tx.ctx, query, args...)
}

// ExecOnce runs statements (a script) not worth keeping prepared.
func (tx *Tx) ExecOnce(query string, args ...any) (sql.Result, error) {
	w, err := tx.open()
	if err != nil {
		return nil, err
	}
	return w.conn.ExecContext(tx.ctx, query, args...)
}

// QueryContext runs a query (a write, with RETURNING, too). Queries are
// not taken from the prepared statements: a statement's rows may still be
// open when its query runs again.
func (tx *Tx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	w, err := tx.open()
	if err != nil {
		return nil, err
	}
	return w.conn.QueryContext(tx.ctx, query, args...)
}

// QueryRowContext runs a query of at most one row.
func (tx *Tx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return tx.writer().conn.QueryRowContext(tx.ctx, query, args...)
}

// Hot returns the queries for queries that run on every call of a hot path
// (the webhook worker's claim): it keeps them prepared. Its caller must
// read each query's rows to the end and close them (queryAll and Row.Scan
// do) before the same query runs again.
func (tx *Tx) Hot() HotQueries { return HotQueries{tx} }

// HotQueries are a transaction's queries kept prepared (Tx.Hot).
type HotQueries struct{ tx *Tx }

func (h HotQueries) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	w := h.tx.writer()
	st, err := w.prepared(h.tx.ctx, query)
	if err != nil || st == nil {
		return w.conn.QueryContext(h.tx.ctx, query, args...)
	}
	return st.QueryContext(h.tx.ctx, args...)
}

func (h HotQueries) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	w := h.tx.writer()
	st, err := w.prepared(h.tx.ctx, query)
	if err != nil || st == nil {
		return w.conn.QueryRowContext(h.tx.ctx, query, args...)
	}
	return st.QueryRowContext(h.tx.ctx, args...)
}

// Observe has fn told of every committed batch: how many transactions it
// carried and how long it took, BEGIN to the end of COMMIT.
func (w *Writer) Observe(fn func(size int, took time.Duration)) { w.observe.Store(&fn) }

// Conn is the write connection, for tests that reach the driver under it
// (a commit hook). Writing through it outside Do races the writer.
func (w *Writer) Conn() *sql.Conn { return w.conn }

// Queued is how many requests wait for the writer, for tests.
func (w *Writer) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Closing reports whether Close has been called, for tests.
func (w *Writer) Closing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}
