package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// vacuum runs VACUUM (ANALYZE) in every database of the cluster, so that
// each measurement starts with no vacuum owed by the writes before it.
// Without it, autovacuum (cost-delayed: it ran for minutes) worked through
// most measurements after the first round, one or two workers at a time, in
// whichever database had crossed its thresholds: an A/A run (one binary as
// pg- and base-) showed Timeout:VacuumDelay in 10 of its 16 measurements,
// and the vacuum's CPU, its reads and its WAL fell on the configuration
// measured, not on the one that wrote the rows. A manual VACUUM is not
// cost-delayed (vacuum_cost_delay 0) and cancels an autovacuum of the same
// table it waits for; the cluster's settings are PostgreSQL's defaults.
func (b *bench) vacuum(ctx context.Context) error {
	rows, err := b.monitor.Query(ctx, `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		conn, err := pgx.Connect(ctx, b.cluster.URL(name))
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, `VACUUM (ANALYZE)`)
		conn.Close(context.Background())
		if err != nil {
			return fmt.Errorf("vacuum %s: %w", name, err)
		}
	}
	return nil
}

// vacuuming tells whether an autovacuum worker runs in the cluster: one that
// started between vacuum and the measurement (the launcher visits each
// database once a naptime) would work through it.
func (b *bench) vacuuming(ctx context.Context) (bool, error) {
	var n int
	err := b.monitor.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`).Scan(&n)
	return n > 0, err
}

// vacuumAfter vacuums the measured database through conn at once after a
// measurement and returns the PostgreSQL CPU it took, in µs per create of
// the measurement: the cost its writes leave to autovacuum, which the
// vacuum before each measurement keeps out of the measurement itself (and
// out of the next one) but a production database pays in the background.
// SQLite has no such deferred cost: compare pg- with sqlite with it added.
func (b *bench) vacuumAfter(ctx context.Context, conn *pgx.Conn, creates float64) (float64, error) {
	before := cpuTicks(b.pgPIDs()...)
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return 0, err
	}
	if creates <= 0 {
		return 0, nil
	}
	return float64(cpuTicks(b.pgPIDs()...)-before) * 1e6 / clockTicks / creates, nil
}
