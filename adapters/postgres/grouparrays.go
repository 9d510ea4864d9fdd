package postgres

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5/pgtype"
)

// A group's parameters are arrays, a column of the group's rows each
// (rows.go; queueLooks in pool.go), and the group's buffer
// (paramEncoder) encodes the columns of a few Go types itself, in
// PostgreSQL's binary array format (array_recv: a header, then each
// element's length and bytes), instead of through pgx's type map.
//
// Why: pgx encodes an array element by element, boxing each into an
// interface and planning its encoding, and the incidents' columns, each
// a []any (their values have different types), by reflection as well. In
// a server under 64 clients that was about 100 µs of CPU a group, twice
// as much a create with two servers as with one, whose groups are half
// the size (bench/README.md, issue 24's "a group's columns"). The bytes
// are pgx's for the same values (TestArrayColumnsEncodeAsPgxDoes); a
// column of any other type, or a parameter of another type, is left to
// pgx.

// appendArray appends column, as the binary array of the parameter type
// oid, to buf. It reports false, and leaves buf as it was, for a column
// it does not encode; a nil slice is NULL (nil, true, nil), as pgx has it.
func appendArray(buf []byte, oid uint32, column any) ([]byte, bool, error) {
	switch v := column.(type) {
	case []string:
		return array(buf, oid, pgtype.TextArrayOID, pgtype.TextOID, v, func(b []byte, s string) ([]byte, bool, error) { return append(b, s...), true, nil })
	case []*string:
		return array(buf, oid, pgtype.TextArrayOID, pgtype.TextOID, v, func(b []byte, s *string) ([]byte, bool, error) {
			if s == nil {
				return b, false, nil
			}
			return append(b, *s...), true, nil
		})
	case [][]byte:
		return array(buf, oid, pgtype.TextArrayOID, pgtype.TextOID, v, func(b []byte, s []byte) ([]byte, bool, error) {
			if s == nil {
				return b, false, nil
			}
			return append(b, s...), true, nil
		})
	case []int64:
		return array(buf, oid, pgtype.Int8ArrayOID, pgtype.Int8OID, v, func(b []byte, n int64) ([]byte, bool, error) {
			return binary.BigEndian.AppendUint64(b, uint64(n)), true, nil
		})
	case []*int64:
		return array(buf, oid, pgtype.Int8ArrayOID, pgtype.Int8OID, v, func(b []byte, n *int64) ([]byte, bool, error) {
			if n == nil {
				return b, false, nil
			}
			return binary.BigEndian.AppendUint64(b, uint64(*n)), true, nil
		})
	case []int:
		return array(buf, oid, pgtype.Int2ArrayOID, pgtype.Int2OID, v, func(b []byte, n int) ([]byte, bool, error) {
			if n < math.MinInt16 || n > math.MaxInt16 {
				return b, false, fmt.Errorf("%d is out of range for smallint", n)
			}
			return binary.BigEndian.AppendUint16(b, uint16(int16(n))), true, nil
		})
	case []bool:
		return array(buf, oid, pgtype.BoolArrayOID, pgtype.BoolOID, v, func(b []byte, t bool) ([]byte, bool, error) {
			if t {
				return append(b, 1), true, nil
			}
			return append(b, 0), true, nil
		})
	case []float64:
		return array(buf, oid, pgtype.Float8ArrayOID, pgtype.Float8OID, v, func(b []byte, f float64) ([]byte, bool, error) {
			return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), true, nil
		})
	case []pgtype.Timestamptz:
		return array(buf, oid, pgtype.TimestamptzArrayOID, pgtype.TimestamptzOID, v, appendTimestamptz)
	}
	return buf, false, nil
}

// microsecondsFromUnixToY2K is how many microseconds PostgreSQL's epoch,
// 2000-01-01 UTC, is after Unix's.
const microsecondsFromUnixToY2K = 946_684_800 * 1_000_000

// appendTimestamptz appends t as PostgreSQL's binary timestamptz: the
// microseconds since 2000-01-01 UTC, infinities the int64's bounds.
func appendTimestamptz(b []byte, t pgtype.Timestamptz) ([]byte, bool, error) {
	if !t.Valid {
		return b, false, nil
	}
	var us int64
	switch t.InfinityModifier {
	case pgtype.Infinity:
		us = math.MaxInt64
	case pgtype.NegativeInfinity:
		us = math.MinInt64
	default:
		us = t.Time.Unix()*1_000_000 + int64(t.Time.Nanosecond())/1000 - microsecondsFromUnixToY2K
	}
	return binary.BigEndian.AppendUint64(b, uint64(us)), true, nil
}

// array appends elements as a one-dimensional binary array of element
// type elemOID, when oid is arrayOID (the statement's parameter is that
// array type); put appends an element's bytes, or reports it NULL.
func array[T any](buf []byte, oid, arrayOID, elemOID uint32, elements []T, put func([]byte, T) ([]byte, bool, error)) ([]byte, bool, error) {
	if oid != arrayOID {
		return buf, false, nil
	}
	if elements == nil {
		return nil, true, nil
	}
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	hasNull := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, elemOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(elements)))
	buf = binary.BigEndian.AppendUint32(buf, 1) // the lower bound
	for _, e := range elements {
		at := len(buf)
		buf = binary.BigEndian.AppendUint32(buf, 0) // the element's length, set below
		var (
			present bool
			err     error
		)
		if buf, present, err = put(buf, e); err != nil {
			return buf[:start], true, err
		}
		if !present {
			binary.BigEndian.PutUint32(buf[at:], math.MaxUint32) // -1: NULL
			binary.BigEndian.PutUint32(buf[hasNull:], 1)
			continue
		}
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf, true, nil
}
