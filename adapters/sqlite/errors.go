package sqlite

import (
	"database/sql"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/setyerr"
)

// translate maps driver errors to setyerr kinds; unknown errors stay as they
// are (internal). It is the only place that knows SQLite's error codes.
func translate(err error) error {
	if sqlstore.Settled(err) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return setyerr.Wrap(setyerr.Conflict, err, "already exists")
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return setyerr.Wrap(setyerr.Unavailable, err, "storage unavailable")
		}
	}
	return err
}

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

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

var errNoRows = sql.ErrNoRows
