package groupcommit

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// mayEndTransaction reports whether err is one of the errors after which
// SQLite may have rolled back the whole transaction, not just the failed
// statement (https://sqlite.org/lang_transaction.html, "Response To Errors
// Within A Transaction"). The writer learns of a rollback that happened
// from SQLite's rollback hook; after one of these errors it fails the
// batch even when the hook has not fired, as the transaction's state is
// then SQLite's to decide.
func mayEndTransaction(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
		return true
	}
	return false
}
