package sqlite

import (
	"database/sql"
	"runtime"
	"sync"
)

// stampChecks are the checks of the incident stamp that the gets share
// (stamp.go): one read of one row on connections of their own, through
// the driver's prepared statement (Conn.Raw, as peekread.go reads;
// stamphold.go), serving every get that arrived before it began. A get that arrives while no
// check runs starts one at once; one that arrives during a check waits
// for the next, which the first of its waiters runs as soon as the
// current one ends. A read transaction, its locks and the statement are
// then paid once per check, not once per get.
//
// A get that would start a check alone first lets the goroutines that are
// ready to run go (runtime.Gosched: under load, other requests on their
// way to their own gets), and those that reach a check meanwhile join its
// round. Without this a server under load, whose gets arrive one at a
// time, ran nearly one check per get (1.25 gets a check with 32 clients);
// with it, several gets share one. The round still reads the stamp only
// after every get in it arrived. On an idle server Gosched returns at
// once.
type stampChecks struct {
	decoded *decodedIncidents

	mu      sync.Mutex
	running bool
	next    *stampRound // the round the gets arriving during a check wait for
	spare   *stampRound // a round that ran with no get but its leader, for the next to reuse
	closed  bool

	reader *stampReader // used by one round at a time

	// presence says whether the handle is alone on its file: then a get
	// needs no check (alone.go).
	presence *presence

	// afterRead, if set, runs in every check after the stamp's read
	// (tests).
	afterRead func()
	// yield is what a get that would check alone does first: let other
	// goroutines run (runtime.Gosched; tests hold it).
	yield func()
}

// stampRound is one check: its outcome, once done is closed.
type stampRound struct {
	start chan struct{} // closed when the round may run (nil: its leader runs it after yielding)
	// done is made by the first get that joins the round (guarded by
	// stampChecks.mu until the round runs; no get joins a running round):
	// a round that its leader runs alone, as a lone get's is, makes no
	// channel.
	done    chan struct{}
	stamp   int64
	foreign bool // the check found numbers no commit of this process holds
	err     error
	// joined counts the gets that wait for the round besides the one
	// that runs it (guarded by stampChecks.mu; tests read it).
	joined int
}

func newStampChecks(db *sql.DB, decoded *decodedIncidents, presence *presence) *stampChecks {
	return &stampChecks{reader: newStampReader(db), decoded: decoded, presence: presence, yield: runtime.Gosched}
}

// fresh returns the incident kept for id when a check that began after
// the call allows it to answer for the tenant, or, while the handle is
// alone on its file, when this process's own commits allow it; false
// sends the get to its row. A get for an incident not kept (or not
// stamped) waits for no check.
func (k *stampChecks) fresh(id, org, env string) (decodedIncident, bool) {
	if k.presence.isAlone() {
		kept, ok, foreign := k.decoded.freshAlone(id, org, env)
		if foreign {
			k.presence.sawForeign()
		}
		return kept, ok
	}
	if !k.decoded.candidate(id, org, env) {
		return decodedIncident{}, false
	}
	stamp, _, err := k.await()
	if err != nil {
		return decodedIncident{}, false
	}
	return k.decoded.fresh(id, org, env, stamp)
}

// checkFile reads the stamp from the file (a check that began after the
// call) and reports whether it found numbers no commit of this process
// holds (presence.check).
func (k *stampChecks) checkFile() (foreign bool, err error) {
	_, foreign, err = k.await()
	return foreign, err
}

// await returns the stamp read by a check that began after the call, and
// whether that check found numbers no commit of this process holds.
func (k *stampChecks) await() (int64, bool, error) {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return 0, false, sql.ErrConnDone
	}
	if !k.running {
		// This get leads a round that gathers the gets arriving while it
		// yields (they find it in k.next); it begins once it is taken
		// out of k.next, so after every one of them arrived.
		k.running = true
		r := k.spare
		if r == nil {
			r = &stampRound{}
		}
		k.spare, k.next = nil, r
		k.mu.Unlock()
		k.yield()
		k.mu.Lock()
		k.next = nil // no check ran meanwhile: only this round can be there
		k.mu.Unlock()
		return k.check(r)
	}
	r := k.next
	lead := r == nil
	if lead {
		r = &stampRound{start: make(chan struct{})}
		k.next = r
	} else {
		r.joined++
		if r.done == nil {
			r.done = make(chan struct{})
		}
	}
	k.mu.Unlock()
	if lead {
		<-r.start
		return k.check(r)
	}
	<-r.done
	return r.stamp, r.foreign, r.err
}

// check runs round r: it reads the stamp, brings the kept incidents up to
// it, hands the connection to the next round, if any gets wait, and
// returns the round's outcome. A round that no get joined and that its
// leader started alone is kept for the next such round (a lone get's,
// the common case on a server that is not busy): no get refers to it
// any more, and its leader reads the outcome check returns, not the
// round.
func (k *stampChecks) check(r *stampRound) (int64, bool, error) {
	r.stamp, r.err = k.reader.read()
	if k.afterRead != nil {
		k.afterRead()
	}
	if r.err == nil {
		k.decoded.mu.Lock()
		r.foreign = k.decoded.advance(r.stamp)
		k.decoded.mu.Unlock()
	}
	stamp, foreign, err, done := r.stamp, r.foreign, r.err, r.done
	k.mu.Lock()
	next := k.next
	if next != nil {
		k.next = nil
		close(next.start) // running stays set: its leader runs it now
	} else if !k.closed {
		k.running = false
	} // else running stays set: no round starts after Close
	// r left k.next before it ran (its leader took it out, or the round
	// before handed it over), under k.mu: no get joins it now.
	if done == nil && r.start == nil {
		*r = stampRound{}
		k.spare = r
	}
	k.mu.Unlock()
	if done != nil {
		close(done)
	}
	return stamp, foreign, err
}

// Close ends the checks: a get waiting for one still gets its outcome,
// later ones read their rows.
func (k *stampChecks) Close() error {
	k.mu.Lock()
	k.closed = true
	k.running = true // no round starts after this
	k.mu.Unlock()
	return k.reader.Close() // a round reading now finishes first
}
