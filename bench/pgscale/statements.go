package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// statementSettings load pg_stat_statements (PostgreSQL's contrib) into the
// cluster, counting the statements inside functions too (track=all: the
// sequencer's work is a plpgsql function), for -statements.
// track_planning: a statement's planning is CPU its executor time does
// not count, paid again by every execution that plans (a custom plan).
var statementSettings = []string{"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all", "pg_stat_statements.track_planning=on"}

// dbCounters are the database's cumulative counters that say how much work
// a create costs it: committed transactions, rows written and read, and
// WAL (pg_stat_database, pg_stat_wal).
type dbCounters struct {
	commits, inserted, updated, deleted, fetched, returned, blksHit, walRecords, walBytes float64
}

func readCounters(ctx context.Context, conn *pgx.Conn) (dbCounters, error) {
	var c dbCounters
	err := conn.QueryRow(ctx, `SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched, tup_returned, blks_hit,
		(SELECT wal_records FROM pg_stat_wal), (SELECT wal_bytes FROM pg_stat_wal)
		FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&c.commits, &c.inserted, &c.updated, &c.deleted, &c.fetched, &c.returned, &c.blksHit, &c.walRecords, &c.walBytes)
	return c, err
}

// statementProbe measures, over one measurement, the database's work per
// create: the counters' growth, and pg_stat_statements' statements by
// execution time (reset at the start).
type statementProbe struct {
	conn   *pgx.Conn
	before dbCounters
}

// startStatements resets pg_stat_statements and reads the counters. The
// statistics collector publishes counters at most every half second
// (PGSTAT_MIN_INTERVAL): a measurement of several seconds makes that small.
func startStatements(ctx context.Context, conn *pgx.Conn) (*statementProbe, error) {
	if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		return nil, err
	}
	before, err := readCounters(ctx, conn)
	return &statementProbe{conn: conn, before: before}, err
}

// report returns the work per create of creates creates, the statements
// that took the most execution time first (at most top).
func (p *statementProbe) report(ctx context.Context, creates float64, top int) (string, error) {
	if creates <= 0 {
		return "", nil
	}
	after, err := readCounters(ctx, p.conn)
	if err != nil {
		return "", err
	}
	per := func(a, b float64) float64 { return (a - b) / creates }
	var out strings.Builder
	fmt.Fprintf(&out, "per create: %.2f commits, rows %.2f inserted %.2f updated %.2f deleted %.1f fetched %.1f returned, %.0f buffer hits, %.1f WAL records %.0f WAL bytes\n",
		per(after.commits, p.before.commits), per(after.inserted, p.before.inserted), per(after.updated, p.before.updated),
		per(after.deleted, p.before.deleted), per(after.fetched, p.before.fetched), per(after.returned, p.before.returned),
		per(after.blksHit, p.before.blksHit), per(after.walRecords, p.before.walRecords), per(after.walBytes, p.before.walBytes))
	rows, err := p.conn.Query(ctx, `SELECT toplevel, calls, total_exec_time, rows, plans, total_plan_time, regexp_replace(left(query, 110), '\s+', ' ', 'g')
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`, top)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	fmt.Fprintf(&out, "           %-6s %8s %9s %7s %8s %9s  statement (executor and planning time; nested: inside a function)\n", "", "calls/c", "µs/create", "rows/c", "plans/c", "plan µs/c")
	for rows.Next() {
		var (
			toplevel         bool
			calls, plans     int64
			execMs, nRows    float64
			planMs           float64
			query, levelName string
		)
		if err := rows.Scan(&toplevel, &calls, &execMs, &nRows, &plans, &planMs, &query); err != nil {
			return "", err
		}
		levelName = "top"
		if !toplevel {
			levelName = "nested"
		}
		fmt.Fprintf(&out, "           %-6s %8.3f %9.1f %7.2f %8.3f %9.1f  %s\n", levelName, float64(calls)/creates, execMs*1000/creates, nRows/creates,
			float64(plans)/creates, planMs*1000/creates, query)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	rows.Close()
	// Statements PostgreSQL compiled with LLVM (jit: a plan estimated above
	// jit_above_cost): the compilation is CPU spent per execution.
	jitted, err := p.conn.Query(ctx, `SELECT calls, jit_generation_time + jit_inlining_time + jit_optimization_time + jit_emission_time,
		regexp_replace(left(query, 110), '\s+', ' ', 'g')
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND jit_functions > 0
		ORDER BY 2 DESC LIMIT $1`, top)
	if err != nil {
		return "", err
	}
	defer jitted.Close()
	for jitted.Next() {
		var (
			calls int64
			ms    float64
			query string
		)
		if err := jitted.Scan(&calls, &ms, &query); err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "           JIT    %8.3f %9.1f          %s\n", float64(calls)/creates, ms*1000/creates, query)
	}
	return strings.TrimRight(out.String(), "\n"), jitted.Err()
}
