package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// sequenceBatch is how many events one call of outbox_sequence positions
// at most before a snapshot is recorded (the first runs after migration
// 0030); sequence calls it again while it fills its batch. A run by the
// difference of two snapshots takes all of it, however many: one that
// positions sequenceBatch or more is called once more, and finds little.
const sequenceBatch = 1000

// sequence gives a log position to every event committed before it was
// called (and folds the committed count deltas), through outbox_sequence
// (migrations 0014, 0019): one sequencer at a time in every instance,
// under lockSequencer. Concurrent callers in this process share runs (see
// flight): a caller waits for the run that starts after it asked, which
// serves every caller that arrived meanwhile, so a burst of readers costs
// one run, not one lock wait each. Callers in other instances share them
// too (sharedRun).
func (db *DB) sequence(ctx context.Context) error {
	return db.sequencer.do(ctx, func(ctx context.Context) error { return sharedRun(ctx, db.pool) })
}

// trySequence is sequence unless another sequencer is running: then it
// returns at once, having done nothing.
func (db *DB) trySequence(ctx context.Context) error {
	for {
		n, err := callSequencer(ctx, db.pool)
		if err != nil || n < sequenceBatch {
			return err
		}
	}
}

// callSequencer calls outbox_sequence once, not waiting for the lock: it
// returns how many events it positioned, or, the lock being taken, -1 less
// the runs committed so far.
func callSequencer(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT outbox_sequence($1, false)`, sequenceBatch).Scan(&n)
	return n, translate(err)
}

// sharedRun returns once a run of the sequencer that started after it was
// called has ended: its own, or, while another instance's holds the lock,
// the run after that one. It waits between tries away from the database,
// holding no connection: with two instances, readers queueing on the lock
// each held a pooled connection and each ran a run of its own. A run
// counts itself as it takes the lock; having read r runs committed (after
// it was called), it needs run r + 2, which took the lock after run r + 1
// committed, so after the read (migration 0019).
func sharedRun(ctx context.Context, q querier) error {
	need := int64(-1)
	for wait := time.Duration(0); ; {
		n, err := callSequencer(ctx, q)
		switch {
		case err != nil:
			return err
		case n == sequenceBatch: // a full batch: more may wait
			continue
		case n >= 0:
			return nil
		}
		committed := -1 - n
		if need < 0 {
			need = committed + 2
		} else if committed >= need {
			return nil
		}
		if err := pause(ctx, &wait); err != nil {
			return err
		}
	}
}

// pause waits before another try for the sequencer's lock: twice as long
// as the last pause (*wait), from 2 ms up to 20 ms. A run holds the lock
// for its statements and its commit's WAL flush, a few milliseconds, and
// a reader waits for two; each try costs a round trip and a look for
// waiting events, so trying sooner costs more CPU than it saves time.
func pause(ctx context.Context, wait *time.Duration) error {
	*wait = min(max(2**wait, 2*time.Millisecond), 20*time.Millisecond)
	t := time.NewTimer(*wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// flight runs a function for many callers, one run at a time, each caller
// served by a run that started after it asked: one that finds a run going
// waits for it to end and then for the next, which the first of the
// waiters starts and which serves them all. The next run reads what every
// waiter committed before it asked.
type flight struct {
	mu      sync.Mutex
	running bool
	started uint64        // runs started
	ended   uint64        // runs ended
	done    chan struct{} // closed when the run going ends
	err     error         // of the last run ended
}

func (f *flight) do(ctx context.Context, run func(context.Context) error) error {
	f.mu.Lock()
	need := f.started + 1 // the first run to start from now on
	for {
		if f.ended >= need {
			// The run needed has ended, and any later one started later
			// still: the last one's result answers, unless it was cut
			// short by the context of the caller who started it.
			err := f.err
			if (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && ctx.Err() == nil {
				need = f.started + 1
				continue
			}
			f.mu.Unlock()
			return err
		}
		if !f.running {
			f.running, f.done = true, make(chan struct{})
			f.started++
			f.mu.Unlock()
			err := run(ctx)
			f.mu.Lock()
			f.running, f.err = false, err
			f.ended++
			close(f.done)
			continue
		}
		done := f.done
		f.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
	}
}

// Watch calls moved whenever the sequencer of any instance has given new
// positions (it NOTIFYs sety_outbox as it commits), until ctx ends, on a
// connection of its own outside the pool; it reconnects after an error,
// and calls moved after each (re)connection, since notifications sent
// while it was away are lost. Readers that poll miss nothing without it:
// it only wakes them early. It returns ctx's error.
func (r *outboxReader) Watch(ctx context.Context, moved func()) error {
	cfg := r.pool.Config().ConnConfig.Copy()
	for wait := time.Duration(0); ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if err := listen(ctx, cfg, moved); err != nil && ctx.Err() == nil {
			wait = min(max(2*wait, 100*time.Millisecond), 5*time.Second)
			continue
		}
		wait = 0
	}
}

// listen connects, LISTENs on sety_outbox and calls moved for every
// notification until ctx ends or the connection fails.
func listen(ctx context.Context, cfg *pgx.ConnConfig, moved func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN sety_outbox`); err != nil {
		return err
	}
	moved()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		moved()
	}
}
