package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/internal/pgtest"
)

// The conformance suite on a database whose default collation is a
// linguistic locale's, as most are: every store method behaves as on the
// C databases the other tests use (migration 0029 gives the keys byte
// order; a comparison of such a column with one the migration left would
// fail here, not there).
func TestConformanceLinguisticLocale(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) storetest.Stores {
		return open(tb, pgtest.LocaleURL(tb, pgtest.LinguisticLocale))
	}, features)
}

// Every text column an index compares (a key column, not an INCLUDE one)
// compares byte by byte, whatever the database's locale: a locale's
// collation rules cost PostgreSQL about a quarter more CPU a create
// (migration 0029), and ids order as SQLite and the memory store order
// them. An index added on a text column without COLLATE "C" fails this.
func TestIndexedTextComparesByteByByte(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{"C": pgtest.URL(t), pgtest.LinguisticLocale: pgtest.LocaleURL(t, pgtest.LinguisticLocale)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, url) // migrates
			conn, err := pgx.Connect(ctx, db.url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			rows, err := conn.Query(ctx, `
				SELECT i.relname, a.attname, coalesce(co.collname, '')
				FROM pg_index x
				JOIN pg_class i ON i.oid = x.indexrelid
				JOIN pg_class c ON c.oid = x.indrelid AND c.relnamespace = 'public'::regnamespace
				JOIN LATERAL unnest(x.indkey[0:x.indnkeyatts - 1], x.indcollation[0:x.indnkeyatts - 1]) AS k(attnum, coll) ON true
				JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
				LEFT JOIN pg_collation co ON co.oid = k.coll
				WHERE a.atttypid = 'text'::regtype
				ORDER BY 1, 2`)
			if err != nil {
				t.Fatal(err)
			}
			type key struct{ Index, Column, Collation string }
			keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[key])
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) < 40 {
				t.Fatalf("%d indexed text columns found, want the schema's 40 or more: %v", len(keys), keys)
			}
			for _, k := range keys {
				if k.Collation != "C" {
					t.Errorf("index %s compares %s by collation %q, want \"C\"", k.Index, k.Column, k.Collation)
				}
			}
		})
	}
}
