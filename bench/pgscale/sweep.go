package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The sweep phase: drills walked by the engines' sweep of due incidents,
// on one instance and on two sharing the database. Each drill is due at
// each of its five simulated steps, and the engine that holds the sweep's
// lease (incident.Store.Lease) steps it; the other instance's engine must
// not sweep the same rows, which showed as Lock:transactionid waits on the
// incidents' row locks before the lease.
const (
	sweep1Config = "sweep-1" // one instance walking drills
	sweep2Config = "sweep-2" // two instances, the drills created through both
)

// sweepResult is what one sweep measurement saw.
type sweepResult struct {
	round            int
	config           string
	drills           int
	walk             time.Duration // from the first create until every drill was resolved
	lateP50, lateP99 float64       // ms: how long after its due time a drill's last step was taken
	lockWaits        map[string]int
	sweepers         map[string]int // application_name → samples of its backends running a sweep statement
	lockReport       string
}

// sweepInstances names the instances of a sweep configuration: their
// engines walk drills SETY_SIMULATE_SPEED times faster than the contract's
// minute (see bench.run).
func sweepInstances(cfg string) []string {
	if cfg == sweep2Config {
		return []string{"sw-a", "sw-b"}
	}
	return []string{"sw-a"}
}

// sweeps runs the sweep phase: o.rounds rounds of one and two instances,
// alternating.
func (b *bench) sweeps(ctx context.Context) ([]sweepResult, error) {
	fmt.Fprintf(b.w, "sweeps: %d drills created at 32 clients, walked at %g× the contract's pace (%s each), on one and two instances\n",
		b.o.drills, b.o.simSpeed, time.Duration(float64(time.Minute)/b.o.simSpeed))
	// The sweeps walk the drills alone: the create rounds' incidents are
	// out of the engine's schedule (unschedule).
	if err := b.unschedule(ctx); err != nil {
		return nil, err
	}
	// The samples take the monitor's connection: the drills are counted
	// on another.
	poll, err := pgx.Connect(ctx, b.cluster.URL("sety"))
	if err != nil {
		return nil, err
	}
	defer poll.Close(context.Background())
	var out []sweepResult
	for r := 1; r <= b.o.rounds; r++ {
		for _, cfg := range rotate([]string{sweep1Config, sweep2Config}, r-1) {
			res, err := b.measureSweep(ctx, poll, r, cfg)
			if err != nil {
				return out, err
			}
			out = append(out, res)
		}
	}
	return out, nil
}

func (b *bench) measureSweep(ctx context.Context, poll *pgx.Conn, round int, cfg string) (sweepResult, error) {
	names := sweepInstances(cfg)
	targets, err := b.only(ctx, names)
	if err != nil {
		return sweepResult{}, err
	}
	b.settle(ctx)
	res := sweepResult{round: round, config: cfg}
	var before time.Time
	if err := poll.QueryRow(ctx, `SELECT now()`).Scan(&before); err != nil {
		return res, err
	}
	sampler, stop := sampleLocks(b.monitor, 50*time.Millisecond)
	start := time.Now()
	created := load(ctx, targets, b.testKey, 32, time.Minute, int64(b.o.drills))
	res.drills = created.ok
	if created.failed > 0 {
		stop()
		return res, fmt.Errorf("%s: %d drills failed: %s", cfg, created.failed, created.firstError)
	}
	// Every drill resolves a minute of the contract after its creation;
	// wait for that and as long again for a late sweep.
	deadline := time.Now().Add(2 * time.Duration(float64(time.Minute)/b.o.simSpeed)).Add(time.Minute)
	for {
		var walking int
		if err := poll.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE environment = 'test' AND status <> 'resolved'`).Scan(&walking); err != nil {
			stop()
			return res, err
		}
		if walking == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return res, fmt.Errorf("%s: %d drills still walking %s after the first create", cfg, walking, time.Since(start).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.walk = time.Since(start)
	stop()
	res.lockReport, _ = sampler.report()
	res.lockWaits, res.sweepers = map[string]int{}, sampler.sweeps
	for l, n := range sampler.locks {
		if typ, statement, _ := strings.Cut(l, " ← "); onSweep(statement) {
			typ, _, _ = strings.Cut(typ, " ")
			res.lockWaits[typ] += n
		}
	}
	// A drill's last step is due a minute of the contract after its
	// creation; it is taken at its row's last update.
	if err := poll.QueryRow(ctx, `SELECT
		coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY late), 0), coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY late), 0)
		FROM (SELECT 1000 * extract(epoch FROM updated_at - created_at - $2 * interval '1 millisecond') AS late
			FROM incidents WHERE environment = 'test' AND created_at >= $1) d`,
		before, float64(time.Minute/time.Millisecond)/b.o.simSpeed).Scan(&res.lateP50, &res.lateP99); err != nil {
		return res, err
	}
	fmt.Fprintf(b.w, "  round %d %-8s %5d drills walked in %5.1f s; last step late by p50 %6.1f ms, p99 %7.1f ms; sweep statements sampled by instance %s; lock waits in sweeps %s\n",
		round, cfg, res.drills, res.walk.Seconds(), res.lateP50, res.lateP99, counts(res.sweepers, names), lockCounts(res.lockWaits))
	fmt.Fprintf(b.w, "           %s\n", res.lockReport)
	return res, nil
}

// only runs the PostgreSQL instances names and no other, and returns
// their URLs.
func (b *bench) only(ctx context.Context, names []string) ([]string, error) {
	for name, s := range b.pg {
		if !slices.Contains(names, name) {
			s.stop()
			delete(b.pg, name)
			b.stopped = append(b.stopped, s)
		}
	}
	var targets []string
	for _, name := range names {
		if err := b.run(ctx, name); err != nil {
			return nil, err
		}
		targets = append(targets, b.pg[name].url)
	}
	return targets, nil
}

// summarizeSweeps prints the sweep phase's medians and totals.
func (b *bench) summarizeSweeps(results []sweepResult) {
	fmt.Fprintf(b.w, "\nsweeps, medians over %d rounds (this run):\n", b.o.rounds)
	for _, cfg := range []string{sweep1Config, sweep2Config} {
		var walk, p50s, p99s, drills []float64
		waits, sweepers := map[string]int{}, map[string]int{}
		for _, r := range results {
			if r.config != cfg {
				continue
			}
			walk, p50s, p99s = append(walk, r.walk.Seconds()), append(p50s, r.lateP50), append(p99s, r.lateP99)
			drills = append(drills, float64(r.drills))
			for k, n := range r.lockWaits {
				waits[k] += n
			}
			for k, n := range r.sweepers {
				sweepers[k] += n
			}
		}
		fmt.Fprintf(b.w, "  %-8s %5.0f drills walked in %5.1f s; last step late by p50 %6.1f ms, p99 %7.1f ms; all rounds: sweep statements sampled by instance %s, lock waits in sweeps %s\n",
			cfg, median(drills), median(walk), median(p50s), median(p99s), counts(sweepers, sweepInstances(cfg)), lockCounts(waits))
	}
}

// counts formats a count per name, names first (zeros included), then any
// other key.
func counts(m map[string]int, names []string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, m[n]))
	}
	for _, k := range top(m, len(m)) {
		if !slices.Contains(names, k) {
			parts = append(parts, fmt.Sprintf("%q %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// lockCounts formats lock waits by type, transactionid and tuple (a row
// lock's) first, zeros included.
func lockCounts(m map[string]int) string {
	parts := []string{fmt.Sprintf("transactionid %d", m["transactionid"]), fmt.Sprintf("tuple %d", m["tuple"])}
	for _, k := range top(m, len(m)) {
		if k != "transactionid" && k != "tuple" {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}
