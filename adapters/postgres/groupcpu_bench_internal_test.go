package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sety-io/sety/internal/pgtest"
)

// BenchmarkGroupBackendCPU is PostgreSQL's side of a group transaction:
// one connection to a durable throwaway cluster (fsync and
// synchronous_commit on) sends exactly a group's statements (commit: the
// looks, then the inserts, one implicit transaction in one pipeline) for
// groups of several sizes, alternately within each of b.N rounds, and
// reads that connection's backend's CPU from /proc/<pid>/schedstat (time
// on a CPU, user and system, in ns). A least-squares fit of CPU per
// transaction = a + b × size over the sizes gives a, what a group costs
// whatever its size, and b, what each create adds. Variants take parts
// away (on a database of their own) to see what a is made of, or add
// what a server's groups meet (another connection's groups, a CPU
// taken, each group on the next of 16 connections as a busy pool hands
// them out); the cluster's other processes' CPU (walwriter, checkpointer, ...) is
// reported per transaction beside it. pg_stat_statements cannot say
// this: its times are wall time, waits for a CPU included.
//
// Linux only (/proc). Run it with -benchtime Nx (N rounds);
// SETY_GROUP_VARIANTS and SETY_GROUP_SIZES (comma-separated) choose
// variants and sizes. The cluster runs without autovacuum, so that
// nothing else runs in it. bench/README.md ("the fixed cost of a group
// transaction") has its figures.
func BenchmarkGroupBackendCPU(b *testing.B) {
	if _, err := os.ReadFile("/proc/self/schedstat"); err != nil {
		b.Skip("needs /proc/<pid>/schedstat")
	}
	c, err := pgtest.StartCluster(pgtest.Options{Durable: true, Settings: []string{"autovacuum=off"}})
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { c.Stop() })
	postmaster, err := c.PID()
	if err != nil {
		b.Fatal(err)
	}
	sizes := []int{1, 2, 4, 8, 16, 32}
	if list := os.Getenv("SETY_GROUP_SIZES"); list != "" {
		sizes = nil
		for _, f := range strings.Split(list, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	only := os.Getenv("SETY_GROUP_VARIANTS") // empty: all
	var runs []*variantRun
	for i, v := range groupVariants {
		if only == "" || strings.Contains(","+only+",", ","+v.name+",") {
			runs = append(runs, startVariant(b, c, fmt.Sprintf("groupcpu_%d", i), v, sizes))
		}
	}
	// Every variant in every round, each size in turn: the machine's
	// changing load falls on all of them alike.
	const perRound = 60
	b.ResetTimer()
	for range b.N {
		for _, r := range runs {
			stop := r.background(b)
			others := othersCPU(b, postmaster, r.pids)
			for _, size := range sizes {
				before := schedCPU(b, r.pids)
				for range perRound {
					r.send(b, size)
				}
				r.used[size] += schedCPU(b, r.pids) - before
			}
			r.others += since(others, othersCPU(b, postmaster, r.pids))
			stop()
		}
	}
	b.StopTimer()
	for _, r := range runs {
		var xs, ys []float64
		line := r.v.name + ": µs a transaction by size"
		for _, size := range sizes {
			per := float64(r.used[size]) / 1e3 / float64(b.N*perRound)
			xs, ys = append(xs, float64(size)), append(ys, per)
			line += fmt.Sprintf(" %d:%.0f", size, per)
		}
		a, slope := fitLine(xs, ys)
		others := float64(r.others) / 1e3 / float64(b.N*perRound*len(sizes))
		b.Logf("%s; a %.0f µs, b %.1f µs a create; the cluster's other processes %.0f µs a transaction", line, a, slope, others)
		b.ReportMetric(a, r.v.name+"-a-µs")
		b.ReportMetric(slope, r.v.name+"-b-µs")
	}
}

// A variantRun is a variant's database, its one connection's backend and
// the CPU it used.
type variantRun struct {
	v      groupVariant
	db     *DB
	url    string
	pids   []int // of its connections' backends
	conns  []*pgxpool.Conn
	sent   int
	one    func() []*grouped // one create, every id new
	used   map[int]int64     // ns by size
	others int64             // ns of the cluster's other processes
	rivals int               // rounds' rivals so far (their ids' prefix)
}

func startVariant(b *testing.B, c *pgtest.Cluster, name string, v groupVariant, sizes []int) *variantRun {
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, name); err != nil {
		b.Fatal(err)
	}
	r := &variantRun{v: v, url: c.URL(name) + "&pool_max_conns=1", used: make(map[int]int64)}
	r.db = openWithOrg(b, r.url)
	for _, sql := range v.setup {
		if _, err := r.db.pool.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	if v.conns > 1 {
		many, err := Open(ctx, c.URL(name)+"&pool_max_conns="+strconv.Itoa(v.conns))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { many.Close() })
		for range v.conns {
			conn, err := many.pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(conn.Release)
			r.conns = append(r.conns, conn)
			r.pids = append(r.pids, int(conn.Conn().PgConn().PID()))
		}
	} else {
		var pid int
		if err := r.db.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			b.Fatal(err)
		}
		r.pids = []int{pid}
	}
	r.one = benchGroupsFrom(b, 1, "inc_"+name)
	for _, size := range sizes { // warm: plans, caches
		for range 20 {
			r.send(b, size)
		}
	}
	return r
}

// send commits a group of size new creates as the variant does.
func (r *variantRun) send(b *testing.B, size int) {
	ctx := context.Background()
	cs := make([]*grouped, 0, size)
	for range size {
		cs = append(cs, r.one()...)
	}
	if r.v.noLooks {
		for _, c := range cs {
			c.look = nil
		}
	}
	if r.conns != nil {
		r.sent++
		if err := r.conns[r.sent%len(r.conns)].SendBatch(ctx, groupBatch(cs)).Close(); err != nil {
			b.Fatal(err)
		}
	} else if r.v.send != nil {
		if err := r.v.send(ctx, r.db, cs); err != nil {
			b.Fatal(err)
		}
	} else if _, err := r.db.creates.commit(ctx, cs); err != nil {
		b.Fatal(err)
	}
}

// background starts the variant's other load, if any (a rival
// connection's groups, spinning goroutines), and returns what stops it.
func (r *variantRun) background(b *testing.B) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	if r.v.rival {
		// A second instance's connection committing groups of 13 all
		// along, as two servers' groups overlap.
		rival, err := Open(context.Background(), r.url)
		if err != nil {
			b.Fatal(err)
		}
		r.rivals++
		more := benchGroupsFrom(b, 1, fmt.Sprintf("rival_%d", r.rivals))
		wg.Go(func() {
			defer rival.Close()
			for {
				select {
				case <-quit:
					return
				default:
				}
				cs := make([]*grouped, 0, 13)
				for range 13 {
					cs = append(cs, more()...)
				}
				if _, err := rival.creates.commit(context.Background(), cs); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for range r.v.hogs {
		wg.Go(func() {
			for n := 0; ; n++ {
				if n%1_000_000 == 0 {
					select {
					case <-quit:
						return
					default:
					}
				}
			}
		})
	}
	return func() { close(quit); wg.Wait() }
}

// A groupVariant is a group transaction with a part taken away.
type groupVariant struct {
	name    string
	setup   []string // on the variant's database (and its one connection) first
	noLooks bool     // no create's look is sent
	conns   int      // more than 1: each group on the next of as many connections
	rival   bool     // a second connection commits groups of 13 throughout
	hogs    int      // goroutines spinning throughout, as the servers' Go work takes CPUs
	send    func(ctx context.Context, db *DB, cs []*grouped) error
}

var groupVariants = []groupVariant{
	{name: "full"},
	{name: "nolooks", noLooks: true},
	{name: "notrigger", setup: []string{`DROP TRIGGER incident_count_inserts ON incidents`}},
	{name: "nolooks-notrigger", noLooks: true, setup: []string{`DROP TRIGGER incident_count_inserts ON incidents`}},
	{name: "syncoff", setup: []string{`SET synchronous_commit = off`}},
	{name: "nolooks-syncoff", noLooks: true, setup: []string{`SET synchronous_commit = off`}},
	{name: "custom-plans", setup: []string{`SET plan_cache_mode = force_custom_plan`}},
	{name: "rotate16", conns: 16},
	{name: "rival", rival: true},
	{name: "hog1", hogs: 1},
	{name: "rival-hog1", rival: true, hogs: 1},
	{name: "deltas-in-statement", setup: []string{`DROP TRIGGER incident_count_inserts ON incidents`}, send: sendDeltasInStatement},
	{name: "select1", send: func(ctx context.Context, db *DB, _ []*grouped) error {
		_, err := db.pool.Exec(ctx, `SELECT 1`)
		return err
	}},
	{name: "insert1", setup: []string{`CREATE TABLE scratch (x int)`}, send: func(ctx context.Context, db *DB, _ []*grouped) error {
		_, err := db.pool.Exec(ctx, `INSERT INTO scratch VALUES (1)`)
		return err
	}},
}

// sendDeltasInStatement is commit with the count deltas written by the
// group's statement (a third data-modifying WITH) instead of the insert
// trigger: what a group would cost without the trigger's call (the
// organization check left out, so a bound).
func sendDeltasInStatement(ctx context.Context, db *DB, cs []*grouped) error {
	b := groupBatch(cs)
	q := b.QueuedQueries[len(b.QueuedQueries)-1]
	withDeltas := strings.Replace(q.SQL, `)
	INSERT INTO outbox_events`, ` RETURNING org_id, environment, status, category, severity),
	deltas AS (INSERT INTO incident_count_deltas (org_id, environment, status, category, severity, n)
		SELECT org_id, environment, status, category, severity, count(*) FROM inserted_incidents
		GROUP BY org_id, environment, status, category, severity)
	INSERT INTO outbox_events`, 1)
	if withDeltas == q.SQL {
		return errors.New("the group's statement changed shape")
	}
	q.SQL = withDeltas
	return db.pool.SendBatch(ctx, b).Close()
}

// groupBatch is commit's batch for cs.
func groupBatch(cs []*grouped) *pgx.Batch {
	b := &pgx.Batch{}
	var looks []*poolLook
	for _, c := range cs {
		if c.look != nil {
			looks = append(looks, c.look)
		}
	}
	switch len(looks) {
	case 0:
	case 1:
		looks[0].queue(b)
	default:
		queueLooks(b, looks)
	}
	queueGroupRows(b, cs)
	return b
}

// schedCPU is the processes' time on a CPU so far, in ns.
func schedCPU(b *testing.B, pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			b.Fatal(err)
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		sum += ns
	}
	return sum
}

// othersCPU is the time on a CPU so far of postmaster and its children
// but those of skip, by process, in ns.
func othersCPU(b *testing.B, postmaster int, skip []int) map[int]int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	used := make(map[int]int64)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || slices.Contains(skip, pid) {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if ppid, _ := strconv.Atoi(f[1]); pid != postmaster && ppid != postmaster {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			continue
		}
		used[pid], _ = strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
	}
	return used
}

// since is what the processes of now used after then: a process gone in
// between is left out, one started counts whole.
func since(then, now map[int]int64) int64 {
	var sum int64
	for pid, ns := range now {
		sum += ns - then[pid]
	}
	return sum
}

// fitLine is the least-squares line y = a + b x through the points.
func fitLine(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	b = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return (sy - b*sx) / n, b
}
