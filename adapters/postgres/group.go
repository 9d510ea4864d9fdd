package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/outbox"
)

// Group commit of creates (the package doc says why). A create that is
// one implicit transaction of writes (no idempotency key, no responder
// claimed: its statements decide nothing in Go) is queued here instead of
// taking a connection of its own. At most groupSlots groups are in flight
// at once; a create that finds a slot free goes at once, alone, and the
// creates queued while every slot was busy go together in the next group
// (up to maxGroup): one pipeline of one statement of the queued creates'
// looks (queueLooks) and one statement that inserts all the incidents and
// all the events (rows.go), sent as one implicit transaction and
// committed at its Sync. A group never waits for more creates: a lone
// create, or one that finds no group in flight, goes at once.
//
// A group is all or nothing: if a statement fails, PostgreSQL rolls the
// whole group back. When a create's look failed, that create runs alone,
// in its caller's goroutine, as an ungrouped create does (errAlone: inTx,
// with its retries), and gets its own outcome; the creates before and
// after it go again as a group at once. A failure of a statement the
// creates share (the inserts), or one that names no statement (no
// connection, the connection lost), sends every create of the group to
// run alone. A create rerun after a commit whose answer was lost fails on
// its incident's primary key: never a second incident.
//
// A caller is answered only after the Sync that committed its create has
// returned. A caller whose context ends while its create waits in the
// queue gets the context's error, and its create is dropped, never sent.
// Once taken into a group, a create's outcome is the group's: its caller
// waits for it (a group takes milliseconds) and is told what the store
// holds. Only if every caller of a group has given up are the group's
// statements cancelled; each caller then gets its context's error, as an
// ungrouped create cancelled during its commit would.
type group struct {
	db *DB

	mu      sync.Mutex
	queue   []*grouped
	running int // slots taken (each a goroutine running drain)

	params paramEncoder // the groups' parameters (groupsend.go)
}

// groupSlots is how many groups may be in flight at once: one, so that
// the creates that arrive while a group commits all go in the next group,
// and each commit (about a millisecond of PostgreSQL's CPU whatever its
// size: its start, triggers and WAL flush) is shared by as many creates
// as possible. Two slots let a group be sent while the other's commit
// waited for its WAL flush, but halved the groups: on a quiet 2-core
// machine one slot gave 1.05–1.13× the creates/s of two with one server
// and 1.04–1.46× with two, at 0.71–0.93× PostgreSQL's CPU per create
// (two pgscale runs with the builds' roles swapped, bench/README.md,
// "Figures at the end of the ninth round"). A group that waited for more
// creates while another was in flight (gather, with two slots) made two
// servers slower in two runs (bench/README.md, "what a second server's
// PostgreSQL CPU is made of") and went with the second slot.
const groupSlots = 1

// maxGroup caps the creates of one group: one failing create makes the
// others of its group go again, and a group's callers are answered
// together.
const maxGroup = 64

// errAlone tells a create's caller to run it alone (see group).
var errAlone = errors.New("postgres: run the create alone")

// A grouped create waits in the queue, then in a group.
type grouped struct {
	ctx    context.Context
	look   *poolLook // a queued create's pool lock and look, or nil
	row    []any     // its incident: insertIncident's arguments
	events []outbox.Event
	state  atomic.Int32 // inQueue, then inGroup or gaveUp (its caller); from inGroup, left or dropped
	run    *groupRun    // its group's, set as it is taken into one (under group.mu)
	err    error        // the outcome; read after done is closed
	done   chan struct{}
}

const (
	inQueue int32 = iota
	inGroup
	gaveUp  // by its caller while queued: never sent
	left    // its caller gave up while it was in a group
	dropped // answered alone (errAlone) while its group goes again
)

// groupRun is what the creates of one group share: the context of its
// statements, cancelled once no caller waits for the group any more. A
// caller that gives up while its create is in a group counts itself out
// from do, where it already waits on its context: a context.AfterFunc
// on every caller's context cost each create an allocation and a
// registration with its request's context, made and undone in every
// group, for an outcome (every caller gone) that is rare.
type groupRun struct {
	ctx     context.Context // the first caller's values, none of its deadline
	cancel  context.CancelFunc
	waiting atomic.Int32 // callers still waiting for the group's outcome
}

// leave counts out one caller of the group.
func (r *groupRun) leave() {
	if r.waiting.Add(-1) == 0 {
		r.cancel()
	}
}

// do queues a create (its look, nil unless queued; its incident's row;
// its events) and returns once it was committed in a group (nil), or its
// context ended while it waited, or with errAlone.
func (g *group) do(ctx context.Context, look *poolLook, row []any, events []outbox.Event) error {
	c := &grouped{ctx: ctx, look: look, row: row, events: events, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.running < groupSlots {
		g.running++
		go g.drain()
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		if c.state.CompareAndSwap(inQueue, gaveUp) {
			return ctx.Err()
		}
		g.mu.Lock() // take set c.run before unlocking
		r := c.run
		g.mu.Unlock()
		if c.state.CompareAndSwap(inGroup, left) {
			r.leave()
		}
		<-c.done // in a group: its outcome is what the store holds
		return c.err
	}
}

// drain sends groups of what is queued until nothing is.
func (g *group) drain() {
	for {
		next, run := g.take()
		if next == nil {
			return
		}
		g.send(run, next)
		run.cancel()
	}
}

// take takes up to maxGroup creates from the queue, skipping those their
// callers gave up on, into a group run; with none, the slot is freed.
func (g *group) take() ([]*grouped, *groupRun) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var (
		out []*grouped
		run = &groupRun{}
	)
	n := 0
	for ; n < len(g.queue) && len(out) < maxGroup; n++ {
		if c := g.queue[n]; c.state.CompareAndSwap(inQueue, inGroup) {
			c.run = run
			out = append(out, c)
		}
	}
	clear(g.queue[:n])
	g.queue = g.queue[n:]
	if len(g.queue) == 0 {
		g.queue = nil // let the array go
	}
	if out == nil {
		g.running--
		return nil, nil
	}
	run.ctx, run.cancel = context.WithCancel(context.WithoutCancel(out[0].ctx))
	run.waiting.Store(int32(len(out)))
	return out, run
}

// send commits cs as one implicit transaction and answers them; after a
// failure, the create that failed is answered errAlone and the others are
// sent again.
func (g *group) send(run *groupRun, cs []*grouped) {
	for {
		failed, err := g.commit(run.ctx, cs)
		if err == nil || failed < 0 || len(cs) == 1 {
			if err != nil {
				err = errAlone
			}
			answer(cs, err)
			return
		}
		if c := cs[failed]; c.state.CompareAndSwap(inGroup, dropped) {
			run.leave() // the others go again only while one of them is waited for
		}
		answer(cs[failed:failed+1], errAlone)
		cs = append(cs[:failed:failed], cs[failed+1:]...)
	}
}

func answer(cs []*grouped, err error) {
	for _, c := range cs {
		c.err = err
		close(c.done)
	}
}

// commit sends cs as one pipeline, an implicit transaction
// (txn.implicit): one statement of the looks of the queued creates, every
// tenant's pool lock first and then every look (queueLooks, migration
// 0027), then one statement that inserts every incident
// and every event (rows.go). It returns the index of the create whose look
// found an available responder: -1 if the failure names none, or names a
// statement of several creates.
func (g *group) commit(ctx context.Context, cs []*grouped) (failed int, err error) {
	conn, err := g.db.pool.Acquire(ctx)
	if err != nil {
		return -1, err
	}
	defer conn.Release()
	b := &pgx.Batch{}
	var (
		looks []*poolLook
		owner []int // of looks[i]: its create's index in cs
	)
	for i, c := range cs {
		if c.look != nil {
			looks, owner = append(looks, c.look), append(owner, i)
		}
	}
	switch len(looks) {
	case 0:
	case 1:
		looks[0].queue(b) // as alone: no arrays to build and unpack
	default:
		queueLooks(b, looks)
	}
	queueGroupRows(b, cs)
	n, err := g.params.sendStatements(ctx, conn.Conn(), b)
	if err != nil {
		if n != 0 || len(looks) == 0 || ctx.Err() != nil {
			return -1, err // a shared statement's, the connection's or the callers'
		}
		if i := refusedLook(err, len(looks)); i >= 0 {
			return owner[i], err
		}
		return -1, err
	}
	return 0, nil
}
