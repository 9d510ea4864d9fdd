package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// A group's statements are sent with their parameters encoded into a
// buffer the group keeps (paramEncoder), through pgconn (the documented
// escape hatch pgx.Conn.PgConn), instead of by pgx.Conn.SendBatch.
//
// Why: a group's parameters are tens of kilobytes (every create's
// incident document and its events' data, as arrays). pgx encodes them
// into a buffer it shrinks back to 256 bytes before every statement
// (ExtendedQueryBuilder.reset), so every group grew it again from there,
// doubling: in a Go heap profile of one server under 64 clients creating
// incidents on PostgreSQL, that growth was 35 % of every byte the server
// allocated, and the collector's work grows with what is allocated. Here
// the buffer keeps its size from group to group. What is sent is what
// pgx would send: each value is encoded by the connection's pgtype.Map,
// in the format pgx would choose (or, a group's column, by appendArray
// into the bytes pgx would send: grouparrays.go), and each statement is
// prepared once per connection and then described from pgx's cache
// (pgx.Conn.Prepare).
type paramEncoder struct {
	mu      sync.Mutex // one group at a time (groupSlots is one, but nothing here relies on it)
	buf     []byte
	ends    []int // of each value in buf; -1: NULL
	values  [][]byte
	formats []int16
}

// encode encodes args, the parameters of the statement sd describes, into
// e's buffer, and sets e.values and e.formats to them. The values stay
// valid until the next encode.
func (e *paramEncoder) encode(m *pgtype.Map, sd *pgconn.StatementDescription, args []any) error {
	if len(args) != len(sd.ParamOIDs) {
		return fmt.Errorf("postgres: %d arguments for %d parameters", len(args), len(sd.ParamOIDs))
	}
	e.buf, e.ends, e.formats = e.buf[:0], e.ends[:0], e.formats[:0]
	for i, arg := range args {
		oid := sd.ParamOIDs[i]
		buf, done, err := appendArray(e.buf, oid, arg) // a group's column (grouparrays.go)
		if done {
			if err != nil {
				return fmt.Errorf("postgres: encoding argument %d: %w", i, err)
			}
			end := -1
			if buf != nil {
				e.buf, end = buf, len(buf)
			}
			e.ends, e.formats = append(e.ends, end), append(e.formats, pgtype.BinaryFormatCode)
			continue
		}
		format := formatFor(m, oid, arg)
		start := len(e.buf)
		buf, err = m.Encode(oid, format, arg, e.buf)
		if err != nil && format == pgtype.BinaryFormatCode {
			// as pgx does: a value with no binary encoding may have a text one
			format = pgtype.TextFormatCode
			buf, err = m.Encode(oid, format, arg, e.buf[:start])
		}
		if err != nil {
			return fmt.Errorf("postgres: encoding argument %d: %w", i, err)
		}
		end := -1
		if buf != nil {
			e.buf, end = buf, len(buf)
		}
		e.ends, e.formats = append(e.ends, end), append(e.formats, format)
	}
	// Sliced only now: the buffer may have moved as it grew.
	e.values = e.values[:0]
	start := 0
	for _, end := range e.ends {
		if end < 0 {
			e.values = append(e.values, nil)
			continue
		}
		e.values = append(e.values, e.buf[start:end:end])
		start = end
	}
	return nil
}

// formatFor is the format pgx chooses for a parameter
// (ExtendedQueryBuilder's chooseParameterFormatCode): text for a Go
// string, else what the type's codec prefers.
func formatFor(m *pgtype.Map, oid uint32, arg any) int16 {
	switch arg.(type) {
	case string, *string:
		return pgtype.TextFormatCode
	}
	return m.FormatCodeForOID(oid)
}

// sendStatements sends the statements queued on b as one pipeline, one
// implicit transaction committed at its Sync, their parameters encoded
// by e. It returns nil, or an error and the index of the statement that
// failed (-1 when the failure names no statement: a statement's
// preparation, its encoding, the connection).
func (e *paramEncoder) sendStatements(ctx context.Context, conn *pgx.Conn, b *pgx.Batch) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	batch := &pgconn.Batch{}
	for _, q := range b.QueuedQueries {
		sd, err := conn.Prepare(ctx, q.SQL, q.SQL) // a round trip on a connection's first group only
		if err != nil {
			return -1, err
		}
		if err := e.encode(conn.TypeMap(), sd, q.Arguments); err != nil {
			return -1, err
		}
		batch.ExecStatement(sd, e.values, e.formats, nil) // copies the values
	}
	results := conn.PgConn().ExecBatch(ctx, batch)
	n := 0
	for ; results.NextResult(); n++ {
		if _, err := results.ResultReader().Close(); err != nil {
			results.Close() //nolint:errcheck // err is the statement's; this reads to the Sync
			return n, err
		}
	}
	if err := results.Close(); err != nil {
		return -1, err
	}
	return 0, nil
}
