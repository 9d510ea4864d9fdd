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

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

var errNoRows = sql.ErrNoRows
