package postgres

import (
	"errors"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/setyerr"
)

// SQLSTATE codes the adapter acts on.
const (
	uniqueViolation      = "23505"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
	untranslatable       = "22P05" // e.g. a NUL character in text
	badCharacter         = "22021" // character_not_in_repertoire
)

// translate maps driver errors to setyerr kinds; unknown errors stay as they
// are (internal). It is the only place that knows PostgreSQL's error codes.
func translate(err error) error {
	if sqlstore.Settled(err) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == uniqueViolation:
			return setyerr.Wrap(setyerr.Conflict, err, "already exists")
		case pe.Code == untranslatable || pe.Code == badCharacter:
			// PostgreSQL text holds no NUL character (SQLite's does).
			return setyerr.Wrap(setyerr.Invalid, err, "text contains a character that cannot be stored (NUL)")
		case pe.Code == serializationFailure || pe.Code == deadlockDetected,
			// connection exceptions, too many connections, shutting down
			len(pe.Code) == 5 && (pe.Code[:2] == "08" || pe.Code[:2] == "53" || pe.Code[:2] == "57"):
			return setyerr.Wrap(setyerr.Unavailable, err, "storage unavailable")
		}
		return err
	}
	var netErr net.Error
	if errors.As(err, &netErr) || pgconn.SafeToRetry(err) || isConnectError(err) {
		return setyerr.Wrap(setyerr.Unavailable, err, "storage unavailable")
	}
	return err
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == uniqueViolation
}

// retryable reports whether inTx should run the transaction again: the
// server aborted it for a deadlock or a serialization failure, or fn asked.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == serializationFailure || pe.Code == deadlockDetected
	}
	var r *retry
	return errors.As(err, &r)
}

// retry is what a transaction's fn returns to be run again: it lost a race
// that a fresh start resolves (two instances inserting one new row). After
// the last attempt inTx returns the cause.
type retry struct{ cause error }

func (r *retry) Error() string { return r.cause.Error() }
func (r *retry) Unwrap() error { return r.cause }

var errNoRows = pgx.ErrNoRows
