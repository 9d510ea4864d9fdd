package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL back into the
// database file.
const checkpointEvery = 500 * time.Millisecond

// Checkpointer copies committed WAL frames into the database file from its
// own connection, so the single writer never does. By default SQLite runs
// that checkpoint inside the commit that crosses 1,000 WAL pages, on the
// writer: under load a profile of create-incident put 5% of the writer's
// time there, every batch behind it waiting, plus the checkpoint's fsync of
// the database file. The writer connection has wal_autocheckpoint off; a
// PASSIVE checkpoint waits for no one (what a reader still uses is copied
// next time), and one with nothing to copy costs a read of the WAL index.
//
// A PASSIVE checkpoint never makes the log start over by itself: the log
// starts over only at a commit that finds every frame copied, which a
// steady load seldom allows (the writer commits again while the checkpoint
// copies). Under a soak of 200 requests a second the log grew by about
// 13 MB a second for stretches of 15 s and more. So when the log is longer
// than the limit, the checkpointer asks the writer for a checkpoint of its
// own between two batches (Writer.Checkpoint): it copies the few frames
// the PASSIVE one left while no commit can land, and the next commit
// starts the log over unless a reader still reads from it. Only if the
// log is still long at the next tick does it follow with a RESTART
// checkpoint, which waits for the writer's transaction and the readers of
// older snapshots (at most the connection's busy timeout), the writer
// waiting for it meanwhile. Under http.sh's create load (2,000 to 4,500 creates a
// second, the log past 64 MB every one to three seconds) half the RESTARTs ran
// into that timeout and held the writer 100–270 ms each; the writer's
// checkpoints took 0–37 ms and each started the log over.
type Checkpointer struct {
	conn          *sql.DB
	restartFrames int // a log longer than this many frames is restarted; 0: never
	// writer, when not nil, is asked for a checkpoint between its batches
	// (Writer.Checkpoint) before a RESTART is tried: under load that
	// starts the log over without holding the writer back for the
	// readers. askedWriter says it was asked since the log was last
	// under the limit: if the log is still long at the next tick, a
	// reader kept it from starting over, and the RESTART follows.
	writer      *Writer
	askedWriter bool
	// A RESTART that a reader of an old snapshot outlasted held the writer
	// back for the whole busy timeout: the next ones wait out skip ticks
	// (doubling each time, at most maxRestartSkip) so that a long read (a
	// backup, a hanging client) stalls the writer now and then, not at
	// every tick.
	skip, skipped int
	stop          context.CancelFunc
	done          chan struct{}
}

// StartCheckpointer checkpoints the database of conn (a pool of its own,
// one connection, whose busy timeout bounds how long a RESTART checkpoint
// holds the writer back) every checkpointEvery, until Close. When the log
// is longer than limit bytes it makes it start over, first through w's
// own checkpoint (Writer.Checkpoint; none when w is nil), then, should a
// reader have kept the log from starting over, with a RESTART; limit ≤ 0
// never does. Once w is closed, its checkpoints fail (ErrClosed) and the
// RESTART is tried at the next tick.
func StartCheckpointer(conn *sql.DB, limit int64, w *Writer) *Checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &Checkpointer{conn: conn, restartFrames: restartFrames(ctx, conn, limit), writer: w, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(checkpointEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// An error (the database busy or closing) is retried at the
				// next tick; the WAL only grows meanwhile.
				_ = c.step(ctx)
			}
		}
	}()
	return c
}

// restartFrames is how many frames of the log make limit bytes (a frame is
// a page and its 24-byte header); 0 when limit ≤ 0.
func restartFrames(ctx context.Context, conn *sql.DB, limit int64) int {
	var pageSize int64
	if limit <= 0 || conn.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize) != nil || pageSize <= 0 {
		return 0
	}
	return int(max(1, limit/(pageSize+24)))
}

// step runs one checkpoint: PASSIVE, then, if the log is longer than the
// limit, the writer's (first) or a RESTART (if the log is still long at
// the next tick).
func (c *Checkpointer) step(ctx context.Context) error {
	var busy, logFrames, copied int
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
		return err
	}
	if c.restartFrames == 0 || logFrames <= c.restartFrames {
		c.askedWriter = false
		return nil
	}
	if c.writer != nil && !c.askedWriter {
		c.askedWriter = true
		_, _, err := c.writer.Checkpoint()
		return err
	}
	c.askedWriter = false
	if c.skipped < c.skip {
		c.skipped++
		return nil
	}
	c.skipped = 0
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &logFrames, &copied); err != nil {
		return err
	}
	if busy != 0 {
		c.skip = min(max(1, 2*c.skip), maxRestartSkip)
	} else {
		c.skip = 0
	}
	return nil
}

// maxRestartSkip is the most ticks the checkpointer lets pass between two
// RESTART tries while readers keep outlasting them (8 s).
const maxRestartSkip = 16

// Close stops the ticks and makes a last checkpoint, after the writer has
// finished its work, so a closed database is all in its file.
func (c *Checkpointer) Close() error {
	c.stop()
	<-c.done
	_, err := c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	return errors.Join(err, c.conn.Close())
}
