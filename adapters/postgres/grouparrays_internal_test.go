package postgres

import (
	"bytes"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// TestArrayColumnsEncodeAsPgxDoes checks that a group's columns, encoded
// by appendArray, are the bytes pgx sends for the same values: NULLs,
// empty and nil columns, bounds, infinities and times in other zones
// included.
func TestArrayColumnsEncodeAsPgxDoes(t *testing.T) {
	s, n := "ünï", int64(-7)
	lagos := time.FixedZone("WAT", 3600)
	columns := []struct {
		name   string
		oid    uint32
		column any
	}{
		{"text", pgtype.TextArrayOID, []string{"a", "", s}},
		{"text, empty", pgtype.TextArrayOID, []string{}},
		{"text, nil", pgtype.TextArrayOID, []string(nil)},
		{"text, NULLs", pgtype.TextArrayOID, []*string{nil, &s, nil}},
		{"bytes as text", pgtype.TextArrayOID, [][]byte{[]byte(`{"a":1}`), nil, {}}},
		{"bigint", pgtype.Int8ArrayOID, []int64{0, -1, math.MaxInt64, math.MinInt64}},
		{"bigint, NULLs", pgtype.Int8ArrayOID, []*int64{nil, &n}},
		{"smallint", pgtype.Int2ArrayOID, []int{0, 3, math.MinInt16, math.MaxInt16}},
		{"boolean", pgtype.BoolArrayOID, []bool{true, false}},
		{"float8", pgtype.Float8ArrayOID, []float64{0, -1.5, math.Inf(1), math.NaN(), 3.4567890123}},
		{"timestamptz", pgtype.TimestamptzArrayOID, []pgtype.Timestamptz{
			{Time: time.Date(2026, 12, 7, 23, 1, 2, 345_678_901, lagos), Valid: true},
			{},
			{Time: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), Valid: true},
			{InfinityModifier: pgtype.Infinity, Valid: true},
			{InfinityModifier: pgtype.NegativeInfinity, Valid: true},
		}},
	}
	m := pgtype.NewMap()
	for _, c := range columns {
		t.Run(c.name, func(t *testing.T) {
			want, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.column, nil)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("kept")
			got, done, err := appendArray(append([]byte(nil), prefix...), c.oid, c.column)
			if err != nil || !done {
				t.Fatalf("appendArray: done %v, error %v", done, err)
			}
			if want == nil {
				if got != nil {
					t.Fatalf("got %x, want NULL (nil) as pgx", got)
				}
				return
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("the buffer's bytes before the column were not kept: %q", got)
			}
			if got = got[len(prefix):]; !bytes.Equal(got, want) {
				t.Fatalf("got\n%x\nwant (pgx)\n%x", got, want)
			}
		})
	}
}

// TestArrayColumnsLeaveOthersToPgx checks what appendArray does not
// encode: a column for a parameter of another type, or of another Go
// type, is left to pgx with the buffer as it was; a smallint out of range
// is an error, as it is in pgx.
func TestArrayColumnsLeaveOthersToPgx(t *testing.T) {
	buf := []byte("kept")
	for _, c := range []struct {
		oid    uint32
		column any
	}{
		{pgtype.Int8ArrayOID, []string{"a"}},
		{pgtype.TextArrayOID, []any{"a"}},
		{pgtype.TextOID, "a"},
		{pgtype.Int4ArrayOID, []int32{1}},
	} {
		got, done, err := appendArray(buf, c.oid, c.column)
		if done || err != nil || string(got) != "kept" {
			t.Errorf("%T as oid %d: done %v, error %v, buffer %q; want it left to pgx", c.column, c.oid, done, err, got)
		}
	}
	if _, done, err := appendArray(nil, pgtype.Int2ArrayOID, []int{math.MaxInt16 + 1}); !done || err == nil {
		t.Errorf("a smallint out of range: done %v, error %v; want an error", done, err)
	}
	if _, err := pgtype.NewMap().Encode(pgtype.Int2ArrayOID, pgtype.BinaryFormatCode, []int{math.MaxInt16 + 1}, nil); err == nil {
		t.Errorf("pgx encodes a smallint out of range; the test's premise is wrong")
	}
}

// TestIncidentColumnsAreTypedUnlessMixed checks that a group's incident
// columns are slices of their values' type, and []any where the rows'
// values differ in type (pgx encodes those).
func TestIncidentColumnsAreTypedUnlessMixed(t *testing.T) {
	key := "k"
	rows := [][]any{
		{"inc_1", &key, 2, int64(3), true, 1.5, pgtype.Timestamptz{Time: time.Unix(0, 0), Valid: true}},
		{"inc_2", (*string)(nil), 1, "mixed", false, 2.5, pgtype.Timestamptz{}},
	}
	cs := []*grouped{{row: rows[0]}, {row: rows[1]}}
	want := []any{
		[]string{"inc_1", "inc_2"}, []*string{&key, nil}, []int{2, 1}, []any{int64(3), "mixed"},
		[]bool{true, false}, []float64{1.5, 2.5}, []pgtype.Timestamptz{rows[0][6].(pgtype.Timestamptz), {}},
	}
	for j, w := range want {
		if got := incidentColumn(cs, j); !reflect.DeepEqual(got, w) {
			t.Errorf("column %d is %#v, want %#v", j, got, w)
		}
	}
}
