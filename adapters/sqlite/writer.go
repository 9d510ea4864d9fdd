package sqlite

import "github.com/sety-io/sety/internal/groupcommit"

// Every write transaction runs on the group commit of internal/groupcommit:
// one writer goroutine owns the write connection and commits the
// transactions queued meanwhile together, each in its own savepoint. When
// SQLite rolls a batch's transaction back itself (its rollback hook says
// so), nothing more of the batch runs and every caller in it fails.

// writeTx is one caller's part of a batch (groupcommit.Tx), valid only
// while its callback runs, with what makes it a sqlstore.Tx (driver.go).
type writeTx struct {
	*groupcommit.Tx
	dialect
	deferred  error         // of a statement Later ran; it fails the transaction
	available *availability // the database's (available.go), which only the writer uses
}

var (
	errClosed = groupcommit.ErrClosed
	errLost   = groupcommit.ErrLost
)
