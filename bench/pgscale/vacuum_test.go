package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/internal/pgtest"
)

// TestVacuumReachesEveryDatabase: after vacuum, every table of every
// database (the monitor's and another, as base-1's beside pg-1's) has all
// its pages marked all-visible, which only a VACUUM does: nothing is left
// for autovacuum to do in a measurement. The tables opt out of autovacuum,
// so that only vacuum can have done it.
func TestVacuumReachesEveryDatabase(t *testing.T) {
	ctx := context.Background()
	cluster, url := pgtest.NewCluster(t, pgtest.Options{})
	if err := cluster.CreateDatabase(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sety", "other"} {
		conn, err := pgx.Connect(ctx, cluster.URL(name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `CREATE TABLE written (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
			INSERT INTO written SELECT i, repeat('x', 100) FROM generate_series(1, 5000) i;
			DELETE FROM written WHERE id % 3 = 0`)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	monitor, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer monitor.Close(ctx)
	b := &bench{cluster: cluster, monitor: monitor}
	if err := b.vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sety", "other"} {
		conn, err := pgx.Connect(ctx, cluster.URL(name))
		if err != nil {
			t.Fatal(err)
		}
		var pages, visible int
		var tuples float64
		err = conn.QueryRow(ctx, `SELECT relpages, relallvisible, reltuples FROM pg_class WHERE relname = 'written'`).Scan(&pages, &visible, &tuples)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 || visible != pages || tuples != 3334 {
			t.Errorf("%s: %d pages, %d all-visible, %v tuples; want every page all-visible and 3334 tuples", name, pages, visible, tuples)
		}
	}
	if v, err := b.vacuuming(ctx); err != nil || v {
		t.Errorf("vacuuming = %v, %v; want false: autovacuum is off for the only written tables", v, err)
	}
}
