package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL back into the
// database file. A short interval keeps each copy small: when the log is
// past its limit, the writer's own checkpoint (below) copies what came
// since the last one and syncs the database file while no batch commits,
// so it holds the writer for a tenth of a second's frames, not half a
// second's. Under http.sh's create load on the shared 2-core machine the
// writer's checkpoints held it 2–12 ms (median 6) at 100 ms against
// 5–42 ms (median 25) at 500 ms (bench/README.md).
const checkpointEvery = 100 * time.Millisecond

// writerTries is how many ticks in a row the checkpointer asks the writer
// for its checkpoint while the log stays past the limit (a reader of an old
// snapshot kept the next commit from starting it over) before it tries a
// RESTART: half a second, as long as a single tick used to be.
const writerTries = 5

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
// log is still long after writerTries ticks of asking does it follow with
// a RESTART checkpoint, which waits for the writer's transaction and the readers of
// older snapshots (at most the connection's busy timeout), the writer
// waiting for it meanwhile. Under http.sh's create load (2,000 to 4,500 creates a
// second, the log past 64 MB every one to three seconds) half the RESTARTs ran
// into that timeout and held the writer 100–270 ms each; the writer's
// checkpoints took 0–37 ms and each started the log over. A reader that
// begins before the writer's checkpoint and reads past the commit after it
// keeps that commit from starting the log over (two of eight in one run
// with ticks of 100 ms), hence the writer is asked again (a few ms) on
// the next ticks rather than a RESTART tried at once.
type Checkpointer struct {
	conn          *sql.DB
	restartFrames int // a log longer than this many frames is restarted; 0: never
	// writer, when not nil, is asked for a checkpoint between its batches
	// (Writer.Checkpoint) before a RESTART is tried: under load that
	// starts the log over without holding the writer back for the
	// readers. writerAsks counts the ticks it was asked since the log was
	// last under the limit: if the log is still long after writerTries of
	// them, readers kept it from starting over, and the RESTART follows.
	writer     *Writer
	writerAsks int
	// A RESTART that a reader of an old snapshot outlasted held the writer
	// back for the whole busy timeout: the next ones let skip turns pass
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
// RESTART is tried after writerTries ticks.
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
// limit, the writer's (on writerTries ticks in a row) or a RESTART (if
// the log is still long after them).
func (c *Checkpointer) step(ctx context.Context) error {
	var busy, logFrames, copied int
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
		return err
	}
	if c.restartFrames == 0 || logFrames <= c.restartFrames {
		c.writerAsks = 0
		return nil
	}
	if c.writer != nil && c.writerAsks < writerTries {
		c.writerAsks++
		_, _, err := c.writer.Checkpoint()
		return err
	}
	c.writerAsks = 0
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

// maxRestartSkip is the most RESTART tries the checkpointer lets pass
// while readers keep outlasting them (each one a turn of writerTries
// writer's checkpoints and a tick: 16 make about 10 s).
const maxRestartSkip = 16

// Close stops the ticks and makes a last checkpoint, after the writer has
// finished its work, so a closed database is all in its file.
func (c *Checkpointer) Close() error {
	c.stop()
	<-c.done
	_, err := c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	return errors.Join(err, c.conn.Close())
}
