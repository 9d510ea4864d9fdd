// Command pgscale measures create-incident on PostgreSQL against SQLite,
// through the example server over HTTP on loopback: one instance on
// PostgreSQL, two instances on the same database (the clients split
// between them), and one on SQLite, at several numbers of concurrent
// clients, in alternating rounds of one run; and, as the database's own
// ceiling, pgbench running a create's writes. While PostgreSQL rounds run
// it samples pg_stat_activity and pg_locks: what Sety's backends wait for.
// Then, in as many rounds, drills walked by the engine's sweep of due
// incidents on one instance and on two: whether two instances' sweeps
// collide on the same rows.
//
// The configurations bare-1 and bare-2 ask the same of the simplest durable
// server on PostgreSQL, built from this tree's bench/baseline (-pg): one
// instance, and two sharing its database (a database of its own in the
// same cluster), the clients split between them as for pg-2, in the same
// rounds; bare-1@N and bare-2@N run it with N groups in flight per
// instance (-pg-commits N) instead of one. Their "sety cpu" is that
// server's CPU, and each measurement also prints the creates its commits
// carried per transaction (the baseline's GET /debug/groups).
//
//	go run ./bench/pgscale                          # 3 rounds of 8 s at 8, 32 and 64 clients
//	go run ./bench/pgscale -rounds 5 -secs 10 -clients 32,64
//	go run ./bench/pgscale -pool 4                  # the servers' pool_max_conns
//	go run ./bench/pgscale -configs pg-1,pg-2,bare-1,bare-2 -drills 0 -pgbench=false
//
// It builds ./examples/server and starts a throwaway, durable PostgreSQL
// cluster (fsync, synchronous_commit and full_page_writes on) in a
// temporary directory (as the postgres user when run as root), and removes
// both when it ends. Rate limits are off. Every measurement starts from
// the same state of the cluster: every database vacuumed, a checkpoint,
// and the servers and PostgreSQL idle, autovacuum included (vacuum.go).
// See bench/README.md.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/internal/pgtest"
)

type options struct {
	rounds, secs, pool int
	clients            []int
	configs            []string
	pgbench            bool
	settle, warm       time.Duration
	serverBin          string  // a server binary to run instead of building ./examples/server
	baseBin            string  // the base-1 configuration's server binary: the build to compare with
	drills             int     // drills per sweep measurement; 0: no sweep phase
	statements         bool    // per-create database work of each PostgreSQL measurement (pg_stat_statements)
	simSpeed           float64 // the sweep instances' SETY_SIMULATE_SPEED
	locale             string  // the cluster's locale; "": C
	profile            string  // a directory for each PostgreSQL instance's CPU profile of each measurement; "": none
	perf               string  // a directory for perf's samples of PostgreSQL's processes in each measurement; "": none
}

// The configurations a round measures.
const (
	sqliteConfig = "sqlite"   // one instance on SQLite
	pg1Config    = "pg-1"     // one instance on PostgreSQL
	pg2Config    = "pg-2"     // two instances on one PostgreSQL database
	benchConfig  = "pgbench:" // prefix of the pgbench scripts' rows
	baseConfig   = "base-1"   // one instance of the -base build, on a database of its own
	base2Config  = "base-2"   // two instances of the -base build on its database
	bareConfig   = "bare-1"   // one durable baseline server (bench/baseline -pg) on a database of its own
	bare2Config  = "bare-2"   // two durable baseline servers on that database
)

// baseDatabase is the base-1 configuration's database, beside "sety" in
// the cluster: the two builds never share a schema (a build's migrations
// would change the other's functions).
const baseDatabase = "sety_base"

// bareDatabase is the bare- configurations' database: the baseline's two
// tables, nothing of Sety's.
const bareDatabase = "sety_bare"

// bare tells whether cfg (or an instance's name) runs bench/baseline
// instances: bare-1, bare-2, bare-1@N, bare-2@N.
func bare(cfg string) bool { return strings.HasPrefix(cfg, "bare-") }

func parseFlags(args []string) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("pgscale", flag.ContinueOnError)
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each measures every configuration at every number of clients, the order rotating")
	fs.IntVar(&o.secs, "secs", 8, "seconds of load per measurement")
	fs.IntVar(&o.pool, "pool", 0, "pool_max_conns of the PostgreSQL servers (0: the adapter's default)")
	clients := fs.String("clients", "8,32,64", "numbers of concurrent clients")
	configs := fs.String("configs", "sqlite,pg-1,pg-2", "configurations: sqlite, pg-1 (one instance), pg-2 (two instances), pg-1@N (one instance with pool_max_conns=N), pg-2@N (two such instances), base-1 and base-2 (one and two instances of -base), bare-1 and bare-2 (one and two instances of bench/baseline -pg, the simplest durable server, on a database of their own), bare-1@N and bare-2@N (such instances with -pg-commits N: N groups in flight each)")
	fs.BoolVar(&o.pgbench, "pgbench", true, "also run pgbench with a create's writes at each number of clients")
	fs.DurationVar(&o.warm, "warm", 2*time.Second, "before a measurement, this long of unreported load at its number of clients, so every instance's pool holds the connections the measurement uses and its caches are warm")
	fs.StringVar(&o.serverBin, "server", "", "run this server binary instead of building ./examples/server (to compare builds with one harness)")
	fs.StringVar(&o.baseBin, "base", "", "a server binary of the build to compare with (e.g. main's): the configuration base-1 runs one instance of it on a database of its own in the same cluster, in the same rounds as pg-1")
	fs.DurationVar(&o.settle, "settle", 15*time.Second, "before a measurement, wait at most this long for the servers and the database to be idle")
	fs.IntVar(&o.drills, "drills", 500, "after the create rounds, rounds of this many drills walked by the engines' sweep on one and on two instances (0: none)")
	fs.BoolVar(&o.statements, "statements", false, "load pg_stat_statements and print each PostgreSQL measurement's database work per create: counters and the costliest statements")
	fs.StringVar(&o.profile, "profile", "", "write each PostgreSQL instance's Go CPU profile of each measurement into this directory")
	fs.StringVar(&o.perf, "perf", "", "sample PostgreSQL's processes with Linux perf during each PostgreSQL measurement, into this directory")
	fs.StringVar(&o.locale, "locale", "", "the cluster's locale, which its databases' collation follows (e.g. en_US.utf8, what most databases are created with; the system must have it: localedef -i en_US -f UTF-8 en_US.UTF-8); default C")
	fs.Float64Var(&o.simSpeed, "simulate-speed", 4, "the sweep phase's SETY_SIMULATE_SPEED: a drill walks in a minute divided by it")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-clients: %q is not a positive number", c)
		}
		o.clients = append(o.clients, n)
	}
	for _, c := range strings.Split(*configs, ",") {
		c = strings.TrimSpace(c)
		if _, ok := instancesOf(c); !ok {
			return o, fmt.Errorf("-configs: unknown configuration %q", c)
		}
		o.configs = append(o.configs, c)
		if (c == baseConfig || c == base2Config) && o.baseBin == "" {
			return o, fmt.Errorf("-configs: %s needs -base", c)
		}
	}
	if o.rounds <= 0 || o.secs <= 0 {
		return o, errors.New("-rounds and -secs must be positive")
	}
	if o.drills < 0 || !(o.simSpeed >= 1 && o.simSpeed <= 100) {
		return o, errors.New("-drills must not be negative, and -simulate-speed must be from 1 to 100")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pgscale:", err)
		os.Exit(1)
	}
}

// bench is the running set-up.
type bench struct {
	o          options
	w          io.Writer
	work, bin  string
	key        string // the live key: creates
	testKey    string // the test key: drills
	cluster    *pgtest.Cluster
	dbURL      string
	sqlite     *server
	pg         map[string]*server // the PostgreSQL instances running, by name (see instancesOf)
	postmaster int
	stopped    []*server // instances stopped between rounds, whose logs the summary reads
	monitor    *pgx.Conn
	baseConn   *pgx.Conn // the monitor of baseDatabase (base-1 only)
	bareConn   *pgx.Conn // the monitor of bareDatabase (bare- only)
	baseline   string    // bench/baseline's binary (bare- only)
	sqlitePath string
	sqliteDB   *sql.DB // the SQLite server's database, for unschedule
	results    []measurement
}

// measurement is one configuration's figures in one round at one number
// of clients.
type measurement struct {
	round, clients       int
	config               string
	rps, p50, p99        float64
	perGroup, commitMs   float64 // creates per commit and wall ms per commit (bare- only; 0: not known)
	genCPU, machineCPU   float64 // pgscale's own CPU (the load generator) and the whole machine's busy CPU, % of a core
	failed               int
	setyCPU, pgCPU       float64
	createPathLockWaits  map[string]int // by lock type
	lockReport, firstErr string
}

func run(ctx context.Context, o options, w io.Writer) error {
	b := &bench{o: o, w: w, key: "sety_live_" + randomHex(16), testKey: "sety_test_" + randomHex(16), pg: map[string]*server{}}
	var err error
	if b.work, err = os.MkdirTemp("", "sety-pgscale-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	defer b.stopAll()
	b.bin = filepath.Join(b.work, "sety-server")
	if o.serverBin != "" {
		if b.bin, err = filepath.Abs(o.serverBin); err != nil {
			return err
		}
		fmt.Fprintln(w, "server:", b.bin)
	} else {
		fmt.Fprintln(w, "building ./examples/server")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "github.com/sety-io/sety/examples/server").CombinedOutput(); err != nil {
			return fmt.Errorf("build the server: %v\n%s", err, out)
		}
	}
	if slices.ContainsFunc(o.configs, bare) {
		b.baseline = filepath.Join(b.work, "baseline")
		fmt.Fprintln(w, "building ./bench/baseline")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.baseline, "github.com/sety-io/sety/bench/baseline").CombinedOutput(); err != nil {
			return fmt.Errorf("build the baseline: %v\n%s", err, out)
		}
	}
	fmt.Fprintf(w, "starting a durable PostgreSQL cluster (fsync, synchronous_commit, full_page_writes on; locale %s)\n", cmp.Or(o.locale, "C"))
	clusterOpts := pgtest.Options{Durable: true, Locale: o.locale}
	if o.statements {
		clusterOpts.Settings = statementSettings
	}
	if b.cluster, err = pgtest.StartCluster(clusterOpts); err != nil {
		return err
	}
	defer b.cluster.Stop()
	if err := b.cluster.CreateDatabase(ctx, "sety"); err != nil {
		return err
	}
	if slices.Contains(o.configs, baseConfig) || slices.Contains(o.configs, base2Config) {
		if err := b.cluster.CreateDatabase(ctx, baseDatabase); err != nil {
			return err
		}
		if b.baseConn, err = pgx.Connect(ctx, b.cluster.URL(baseDatabase)); err != nil {
			return err
		}
		defer b.baseConn.Close(context.Background())
	}
	if slices.ContainsFunc(o.configs, bare) {
		if err := b.cluster.CreateDatabase(ctx, bareDatabase); err != nil {
			return err
		}
		if b.bareConn, err = pgx.Connect(ctx, b.cluster.URL(bareDatabase)); err != nil {
			return err
		}
		defer b.bareConn.Close(context.Background())
	}
	if b.postmaster, err = b.cluster.PID(); err != nil {
		return err
	}
	b.dbURL = b.cluster.URL("sety")
	if o.pool > 0 {
		b.dbURL += "&pool_max_conns=" + strconv.Itoa(o.pool)
	}
	b.sqlitePath = filepath.Join(b.work, "sety.db")
	if b.sqlite, err = startServer(ctx, b.bin, b.work, "sqlite", append(b.common(), "SETY_DB="+b.sqlitePath), nil); err != nil {
		return err
	}
	if err := b.run(ctx, "pg-a"); err != nil {
		return err
	}
	if b.baseConn != nil {
		// The base build migrates its database as it starts: before the
		// first round reads it (unschedule).
		if err := b.run(ctx, "base-a"); err != nil {
			return err
		}
	}
	if b.monitor, err = pgx.Connect(ctx, b.cluster.URL("sety")); err != nil {
		return err
	}
	defer b.monitor.Close(context.Background())
	if o.statements {
		// The functions live in each database that reads them: the base
		// build's too.
		for _, conn := range []*pgx.Conn{b.monitor, b.baseConn, b.bareConn} {
			if conn == nil {
				continue
			}
			if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
				return err
			}
		}
	}
	defer func() {
		if b.sqliteDB != nil {
			b.sqliteDB.Close()
		}
	}()
	var first string
	for _, s := range []*server{b.sqlite, b.pg["pg-a"]} {
		if first, err = createOne(ctx, s.url, b.key); err != nil {
			return fmt.Errorf("the first create on %s: %w", s.name, err)
		}
	}
	if o.pgbench {
		if err := writePgbenchScripts(ctx, b.monitor, b.work, first); err != nil {
			return fmt.Errorf("pgbench scripts: %w", err)
		}
		if err := preparePgbenchDatabase(ctx, b.cluster, b.monitor, first); err != nil {
			return fmt.Errorf("pgbench's database: %w", err)
		}
	}
	fmt.Fprintf(w, "load: %d rounds of %d s per measurement, clients %v, configurations %v; pool_max_conns %s; %d CPUs, load average %s\n",
		o.rounds, o.secs, o.clients, o.configs, orDefault(o.pool), numCPU(), loadAverage())

	for r := 1; r <= o.rounds; r++ {
		order := rotate(o.configs, r-1)
		for _, c := range o.clients {
			fmt.Fprintf(w, "round %d/%d, %d clients\n", r, o.rounds, c)
			for _, cfg := range order {
				if err := b.measure(ctx, r, c, cfg); err != nil {
					return err
				}
			}
			if o.pgbench {
				for _, script := range pgbenchScripts {
					if err := b.measurePgbench(ctx, r, c, script); err != nil {
						return err
					}
				}
			}
		}
	}
	var sweeps []sweepResult
	if o.drills > 0 {
		if sweeps, err = b.sweeps(ctx); err != nil {
			return err
		}
	}
	b.summarize()
	if len(sweeps) > 0 {
		b.summarizeSweeps(sweeps)
	}
	return nil
}

// common is every server's environment: rate limits off, and the keys an
// empty database is bootstrapped with.
func (b *bench) common() []string {
	return []string{"SETY_RATE_LIMITS=false", "SETY_BOOTSTRAP_LIVE_KEY=" + b.key, "SETY_BOOTSTRAP_TEST_KEY=" + b.testKey}
}

// measure runs the load of one configuration and records it.
func (b *bench) measure(ctx context.Context, round, clients int, cfg string) error {
	names, _ := instancesOf(cfg)
	targets := []string{b.sqlite.url}
	if cfg != sqliteConfig {
		var err error
		if targets, err = b.only(ctx, names); err != nil {
			return err
		}
	}
	if b.o.warm > 0 {
		load(ctx, targets, b.key, clients, b.o.warm, 0)
	}
	if err := b.unschedule(ctx); err != nil {
		return err
	}
	if err := b.vacuum(ctx); err != nil {
		return err
	}
	if err := b.checkpoint(ctx); err != nil {
		return err
	}
	settled := b.settle(ctx)
	// The measured database's size: a build that makes more creates a
	// second grows its database faster, and pays more per create for it
	// later (deeper indexes, more pages outside shared_buffers, more full
	// page images after each checkpoint).
	var dbSize int64
	if len(names) > 0 {
		if err := b.monitorOf(cfg).QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&dbSize); err != nil {
			return err
		}
	}
	m := measurement{round: round, clients: clients, config: cfg}
	setyCPU := newCPUMeter(b.setyPIDs)
	pgCPU := newCPUMeter(b.pgPIDs)
	var (
		sampler      *lockSampler
		stopSampling = func() {}
	)
	var (
		probe *statementProbe
		procs *processProbe
	)
	if len(names) > 0 {
		if b.o.statements {
			var err error
			if probe, err = startStatements(ctx, b.monitorOf(cfg)); err != nil {
				return err
			}
			if procs, err = startProcesses(ctx, b.monitorOf(cfg), b.postmaster); err != nil {
				return err
			}
		}
		sampler, stopSampling = sampleLocks(b.monitorOf(cfg), 50*time.Millisecond)
	}
	profiled := func() {}
	if b.o.profile != "" && len(names) > 0 {
		profiled = b.profileServers(ctx, round, clients, cfg, names, time.Duration(b.o.secs)*time.Second)
	}
	perfed := func() {}
	if b.o.perf != "" && len(names) > 0 {
		perfed = b.perfPostgres(ctx, round, clients, cfg, time.Duration(b.o.secs)*time.Second)
	}
	var before groupStats
	if bare(cfg) {
		var err error
		if before, err = groupsOf(ctx, targets); err != nil {
			return err
		}
	}
	genCPU := newCPUMeter(func() []int { return []int{os.Getpid()} })
	busy0, total0 := machineTicks()
	res := load(ctx, targets, b.key, clients, time.Duration(b.o.secs)*time.Second, 0)
	busy1, total1 := machineTicks()
	m.genCPU, m.machineCPU = genCPU.percent(), machineBusy(busy0, total0, busy1, total1, numCPU())
	if bare(cfg) {
		after, err := groupsOf(ctx, targets)
		if err != nil {
			return err
		}
		if g := after.Groups - before.Groups; g > 0 {
			m.perGroup = float64(after.Creates-before.Creates) / float64(g)
			m.commitMs = float64(after.CommitNanos-before.CommitNanos) / 1e6 / float64(g)
		}
	}
	stopSampling()
	profiled()
	perfed()
	m.setyCPU, m.pgCPU = setyCPU.percent(), pgCPU.percent()
	m.rps, m.p50, m.p99, m.failed, m.firstErr = res.rps(), res.quantile(0.5), res.quantile(0.99), res.failed, res.firstError
	if sampler != nil {
		m.lockReport, m.createPathLockWaits = sampler.report()
	}
	b.results = append(b.results, m)
	note := ""
	if dbSize > 0 {
		note = fmt.Sprintf("  database %d MB", dbSize>>20)
	}
	note += fmt.Sprintf("  load generator cpu %.0f%%, machine busy %.0f%% of %d00%%", m.genCPU, m.machineCPU, numCPU())
	if m.perGroup > 0 {
		note += fmt.Sprintf("  %.1f creates/commit, %.2f ms/commit", m.perGroup, m.commitMs)
	}
	if !settled {
		note += "  (not idle before: started anyway)"
	}
	fmt.Fprintf(b.w, "  %-8s %7.0f creates/s  p50 %6.2f ms  p99 %6.2f ms  failed %d  sety cpu %4.0f%% (%4.0f µs/create)  postgres cpu %4.0f%% (%4.0f µs/create)%s\n",
		cfg, m.rps, m.p50, m.p99, m.failed, m.setyCPU, cpuPerCreate(m.setyCPU, m.rps), m.pgCPU, cpuPerCreate(m.pgCPU, m.rps), note)
	if m.failed > 0 {
		fmt.Fprintf(b.w, "           first failure: %s\n", m.firstErr)
	}
	if m.lockReport != "" {
		fmt.Fprintf(b.w, "           %s\n", m.lockReport)
	}
	if procs != nil {
		report, err := procs.report(ctx, float64(res.ok))
		if err != nil {
			return err
		}
		fmt.Fprintf(b.w, "           %s\n", report)
	}
	if probe != nil {
		report, err := probe.report(ctx, float64(res.ok), 14)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.w, "           %s\n", report)
	}
	if len(names) > 0 {
		cost, err := b.vacuumAfter(ctx, b.monitorOf(cfg), float64(res.ok))
		if err != nil {
			return err
		}
		fmt.Fprintf(b.w, "           vacuum after: postgres cpu %.0f µs/create\n", cost)
	}
	return nil
}

// cpuPerCreate is the CPU time, in µs, that a process using percent of a
// core spends per create at rps creates a second.
func cpuPerCreate(percent, rps float64) float64 {
	if rps <= 0 {
		return 0
	}
	return percent / 100 * 1e6 / rps
}

// measurePgbench runs one pgbench script at clients connections.
func (b *bench) measurePgbench(ctx context.Context, round, clients int, script string) error {
	u, _ := url.Parse(b.cluster.URL(pgbenchDatabase))
	if err := b.vacuum(ctx); err != nil {
		return err
	}
	if err := b.checkpoint(ctx); err != nil {
		return err
	}
	b.settle(ctx)
	pgCPU := newCPUMeter(b.pgPIDs)
	res, err := runPgbench(ctx, b.cluster.Bin("pgbench"), filepath.Join(b.work, script+".sql"), u.Query().Get("host"), u.Query().Get("port"),
		pgbenchDatabase, clients, time.Duration(b.o.secs)*time.Second)
	if err != nil {
		return err
	}
	m := measurement{round: round, clients: clients, config: benchConfig + script, rps: res.tps, p50: res.latency, pgCPU: pgCPU.percent()}
	b.results = append(b.results, m)
	fmt.Fprintf(b.w, "  %-26s %7.0f tps  latency average %6.2f ms  postgres cpu %4.0f%% (%4.0f µs/transaction)\n", m.config, m.rps, m.p50, m.pgCPU, pgPerCreate(m))
	return nil
}

// monitorOf is the monitor connection of cfg's database.
func (b *bench) monitorOf(cfg string) *pgx.Conn {
	if cfg == baseConfig || cfg == base2Config {
		return b.baseConn
	}
	if bare(cfg) {
		return b.bareConn
	}
	return b.monitor
}

// checkpoint makes PostgreSQL write a checkpoint now, so every measurement
// starts from one: a measurement that a checkpoint (every max_wal_size of
// WAL: about a minute and a half of creates) falls into writes a full
// page image at the first change of each page after it, much more WAL than
// its neighbours, and the rounds of one configuration swung with where
// the checkpoints fell.
func (b *bench) checkpoint(ctx context.Context) error {
	_, err := b.monitor.Exec(ctx, `CHECKPOINT`)
	return err
}

// settle waits until the servers and the database are idle (under 20 % of
// a core together over 300 ms, and no autovacuum worker: a cost-delayed
// vacuum uses little CPU but works for long) or the settle time has passed.
func (b *bench) settle(ctx context.Context) bool {
	deadline := time.Now().Add(b.o.settle)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		m := newCPUMeter(func() []int { return append(b.setyPIDs(), b.pgPIDs()...) })
		time.Sleep(300 * time.Millisecond)
		if m.percent() < 20 {
			if v, err := b.vacuuming(ctx); err == nil && !v {
				return true
			}
		}
	}
	return false
}

// instancesOf names the PostgreSQL instances a configuration runs: pg-a
// alone; pg-a and pg-b; or, for pg-1@N, an instance whose pool opens at
// most N connections, and for pg-2@N two such (pg-2@N-a, pg-2@N-b).
func instancesOf(cfg string) ([]string, bool) {
	switch cfg {
	case sqliteConfig:
		return nil, true
	case pg1Config:
		return []string{"pg-a"}, true
	case pg2Config:
		return []string{"pg-a", "pg-b"}, true
	case baseConfig:
		return []string{"base-a"}, true
	case base2Config:
		return []string{"base-a", "base-b"}, true
	case bareConfig:
		return []string{"bare-a"}, true
	case bare2Config:
		return []string{"bare-a", "bare-b"}, true
	}
	if n, ok := commitsOf(cfg); ok && n > 0 {
		if strings.HasPrefix(cfg, bare2Config+"@") {
			return []string{cfg + "-a", cfg + "-b"}, true
		}
		return []string{cfg}, true
	}
	if n, ok := poolOf(cfg); ok && n > 0 {
		if strings.HasPrefix(cfg, pg2Config+"@") {
			return []string{cfg + "-a", cfg + "-b"}, true
		}
		return []string{cfg}, true
	}
	return nil, false
}

// poolOf is the pool_max_conns N of a configuration pg-1@N or pg-2@N, or
// of one of their instances (pg-2@N-a, pg-2@N-b).
func poolOf(name string) (int, bool) { return atOf(name, pg1Config, pg2Config) }

// commitsOf is the -pg-commits N of a configuration bare-1@N or bare-2@N,
// or of one of their instances (bare-2@N-a, bare-2@N-b).
func commitsOf(name string) (int, bool) { return atOf(name, bareConfig, bare2Config) }

// atOf is the N of a name one@N, two@N, two@N-a or two@N-b.
func atOf(name, one, two string) (int, bool) {
	for _, prefix := range []string{one + "@", two + "@"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if prefix == two+"@" {
				rest = strings.TrimSuffix(strings.TrimSuffix(rest, "-a"), "-b")
			}
			n, err := strconv.Atoi(rest)
			return n, err == nil
		}
	}
	return 0, false
}

// run starts the PostgreSQL instance name unless it runs, and warms it
// (its connections and caches) with a second of load. Its connections
// carry its name as their application_name, which the lock samples show;
// a sweep instance (sw-) walks drills -simulate-speed times faster; a
// bare- instance is bench/baseline -pg on bareDatabase, with the same
// pool_max_conns.
func (b *bench) run(ctx context.Context, name string) error {
	if b.pg[name] != nil {
		return nil
	}
	dbURL, bin := b.dbURL, b.bin
	if pool, ok := poolOf(name); ok {
		dbURL = b.cluster.URL("sety") + "&pool_max_conns=" + strconv.Itoa(pool)
	}
	if strings.HasPrefix(name, "base-") {
		dbURL, bin = strings.Replace(b.dbURL, "/sety?", "/"+baseDatabase+"?", 1), b.o.baseBin
	}
	var args []string
	if strings.HasPrefix(name, "bare-") {
		bin = b.baseline
		args = []string{"-addr", "127.0.0.1:0", "-pg", strings.Replace(b.dbURL, "/sety?", "/"+bareDatabase+"?", 1) + "&application_name=" + url.QueryEscape(name)}
		if n, ok := commitsOf(name); ok {
			args = append(args, "-pg-commits", strconv.Itoa(n))
		}
	}
	env := append(b.common(), "SETY_DATABASE_URL="+dbURL+"&application_name="+url.QueryEscape(name))
	if b.o.profile != "" {
		env = append(env, "SETY_PPROF_ADDR=127.0.0.1:0")
	}
	if strings.HasPrefix(name, "sw-") {
		env = append(env, "SETY_SIMULATE_SPEED="+strconv.FormatFloat(b.o.simSpeed, 'g', -1, 64))
	}
	s, err := startServer(ctx, bin, b.work, name, env, args)
	if err != nil {
		return err
	}
	b.pg[name] = s
	load(ctx, []string{s.url}, b.key, 8, time.Second, 0)
	return nil
}

func (b *bench) servers() []*server {
	out := []*server{b.sqlite}
	for _, s := range b.pg {
		out = append(out, s)
	}
	return out
}

func (b *bench) setyPIDs() []int {
	var pids []int
	for _, s := range b.servers() {
		if s != nil {
			pids = append(pids, s.cmd.Process.Pid)
		}
	}
	return pids
}

func (b *bench) pgPIDs() []int { return append(children(b.postmaster), b.postmaster) }

func (b *bench) stopAll() {
	for _, s := range b.servers() {
		if s != nil {
			s.stop()
		}
	}
}

// rotate returns list rotated left by n.
func rotate(list []string, n int) []string {
	n %= len(list)
	return append(slices.Clone(list[n:]), list[:n]...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func orDefault(pool int) string {
	if pool == 0 {
		return "the adapter's default"
	}
	return strconv.Itoa(pool)
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(1, strings.Count(string(b), "processor\t:"))
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:min(3, len(strings.Fields(string(b))))], " ")
}
