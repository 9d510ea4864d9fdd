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
type Checkpointer struct {
	conn *sql.DB
	stop context.CancelFunc
	done chan struct{}
}

// StartCheckpointer checkpoints the database of conn (a pool of its own,
// one connection) every checkpointEvery, until Close.
func StartCheckpointer(conn *sql.DB) *Checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &Checkpointer{conn: conn, stop: stop, done: make(chan struct{})}
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
				_, _ = c.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return c
}

// Close stops the ticks and makes a last checkpoint, after the writer has
// finished its work, so a closed database is all in its file.
func (c *Checkpointer) Close() error {
	c.stop()
	<-c.done
	_, err := c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	return errors.Join(err, c.conn.Close())
}
