package postgres

import (
	"bytes"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The group's own encoding of parameters must send PostgreSQL exactly what
// pgx would have sent for the same arguments: the same bytes, NULLs and
// formats, for every kind of column a group passes.
func TestParamEncoderSendsWhatPgxWould(t *testing.T) {
	m := pgtype.NewMap()
	sd := &pgconn.StatementDescription{ParamOIDs: []uint32{
		pgtype.Int4OID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.Int8ArrayOID,
		pgtype.Float8ArrayOID, pgtype.BoolArrayOID, pgtype.Int2ArrayOID, pgtype.TimestamptzArrayOID,
		pgtype.TextArrayOID, pgtype.TextOID, pgtype.TextArrayOID, pgtype.TextOID, pgtype.TextOID, pgtype.Float8OID,
	}}
	at := time.Date(2026, 12, 7, 15, 0, 0, 123456000, time.UTC)
	idem := "key-1"
	args := []any{
		int32(7),
		[]string{"inc_a", "", "inc_ü"},
		[]any{"x", nil, &idem}, // an incident column: any values, NULLs among them
		[]int64{1, -2, 1 << 40},
		[]float64{3.4219, -6.4281},
		[]any{true, false},
		[]any{int16(3), int16(1)},
		[]pgtype.Timestamptz{{Time: at, Valid: true}, {}},
		[][]byte{[]byte(`{"incident":{"id":"inc_a"}}`), []byte(`{}`)},
		nil,
		[]string{},
		"org_1", // a look's tenant: pgx sends a Go string as text
		&idem,
		float64(1.5),
	}
	var want pgx.ExtendedQueryBuilder
	if err := want.Build(m, sd, args); err != nil {
		t.Fatal(err)
	}
	var e paramEncoder
	if err := e.encode(m, sd, args); err != nil {
		t.Fatal(err)
	}
	if len(e.values) != len(want.ParamValues) {
		t.Fatalf("%d values, pgx %d", len(e.values), len(want.ParamValues))
	}
	for i := range e.values {
		if (e.values[i] == nil) != (want.ParamValues[i] == nil) || !bytes.Equal(e.values[i], want.ParamValues[i]) {
			t.Errorf("argument %d: % x, pgx % x", i, e.values[i], want.ParamValues[i])
		}
		if e.formats[i] != want.ParamFormats[i] {
			t.Errorf("argument %d: format %d, pgx %d", i, e.formats[i], want.ParamFormats[i])
		}
	}
}

// The buffer keeps its size from one group to the next: a group no larger
// than the last encodes into the same memory (pgx's own buffer shrank
// back before every statement and grew again).
func TestParamEncoderKeepsItsBuffer(t *testing.T) {
	m := pgtype.NewMap()
	sd := &pgconn.StatementDescription{ParamOIDs: []uint32{pgtype.TextArrayOID}}
	doc := string(bytes.Repeat([]byte("x"), 1300))
	big := make([]string, 64)
	for i := range big {
		big[i] = doc
	}
	var e paramEncoder
	if err := e.encode(m, sd, []any{big}); err != nil {
		t.Fatal(err)
	}
	first := &e.buf[:1][0]
	if err := e.encode(m, sd, []any{big[:20]}); err != nil {
		t.Fatal(err)
	}
	if &e.buf[:1][0] != first {
		t.Fatal("a smaller group encoded into a new buffer")
	}
	if got := len(e.values[0]); got < 20*1300 {
		t.Fatalf("the second group's array is %d bytes", got)
	}
}
