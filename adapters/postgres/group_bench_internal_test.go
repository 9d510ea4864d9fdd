package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/internal/cputime"
	"github.com/sety-io/sety/internal/pgtest"
)

// BenchmarkGroupCommit commits queued creates (their looks, incidents and
// events) in groups of a fixed size, each create's caller waiting in a
// goroutine of its own, and reports the process's CPU per create and per
// group: Go's side of a group, since PostgreSQL runs in processes of its
// own. Two sizes' figures split it into what a group costs whatever its
// size and what each create adds.
func BenchmarkGroupCommit(b *testing.B) {
	for _, size := range []int{1, 8, 17} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) { benchmarkGroupCommit(b, size) })
	}
}

func benchmarkGroupCommit(b *testing.B, size int) {
	db := openBenchDB(b)
	g := &db.creates
	newGroup := benchGroups(b, size)
	var used time.Duration
	b.ResetTimer()
	for range b.N {
		cs := newGroup() // not counted
		cpu := cputime.Process()
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				<-c.done
				if c.err != nil {
					b.Error(c.err)
				}
			})
		}
		g.mu.Lock()
		g.queue = cs
		g.running++
		g.mu.Unlock()
		g.drain()
		wg.Wait()
		used += cputime.Process() - cpu
	}
	b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(b.N*size), "cpu-µs/create")
	b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(b.N), "cpu-µs/group")
}

// BenchmarkGroupRowsEncode is the Go work of a group's inserts before
// they go out: their arguments (queueGroupRows) and their encoding into
// the statement's parameters (paramEncoder, as a group's commit does),
// without the network or PostgreSQL.
func BenchmarkGroupRowsEncode(b *testing.B) {
	for _, size := range []int{1, 8, 17} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			db := openBenchDB(b)
			conn, err := db.pool.Acquire(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Release()
			sd, err := conn.Conn().Prepare(context.Background(), "", insertGroupRows)
			if err != nil {
				b.Fatal(err)
			}
			cs := benchGroups(b, size)()
			var e paramEncoder
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				batch := &pgx.Batch{}
				queueGroupRows(batch, cs)
				if err := e.encode(conn.Conn().TypeMap(), sd, batch.QueuedQueries[0].Arguments); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*size), "µs/create")
		})
	}
}

// openBenchDB opens a new database, closed when b ends, with the fixture
// tenant's organization in it.
func openBenchDB(b *testing.B) *DB { return openWithOrg(b, pgtest.URL(b)) }

// benchGroups returns a maker of groups of size new queued creates, out
// of every responder's range, each with an event of about a create's size.
func benchGroups(b *testing.B, size int) func() []*grouped { return benchGroupsFrom(b, size, "inc") }

// benchGroupsFrom is benchGroups with the incidents' ids prefixed by
// prefix instead of inc.
func benchGroupsFrom(b *testing.B, size int, prefix string) func() []*grouped {
	ctx := context.Background()
	data := []byte(`{"note":"` + strings.Repeat("x", 600) + `"}`)
	n := 0
	return func() []*grouped {
		cs := make([]*grouped, size)
		for i := range cs {
			n++
			inc, effects := storedIncident(fmt.Sprintf("%s_%016d", prefix, n))
			effects.Events[0].Data = data
			values, err := sqlstore.IncidentValues(dialect{}, inc, effects.Encoded)
			if err != nil {
				b.Fatal(err)
			}
			look := newPoolLook(inc.Tenant(), inc.Location.Coordinates, 50_000)
			// Each create's own context, as a request's is: one that can end.
			ctx, cancel := context.WithCancel(ctx)
			b.Cleanup(cancel)
			cs[i] = &grouped{ctx: ctx, look: look, row: sqlstore.IncidentArgs(dialect{}, inc, values), events: effects.Events, done: make(chan struct{})}
		}
		return cs
	}
}

// BenchmarkGroupTake is the Go work of taking queued creates into a group
// and ending it, without the group's statements: the group's context and
// what tells it whether every caller gave up. Each create has a context
// of its own, as a request's is (one that can end).
func BenchmarkGroupTake(b *testing.B) {
	for _, size := range []int{1, 8, 17} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var g group
			cs := make([]*grouped, size)
			for i := range cs {
				ctx, cancel := context.WithCancel(context.Background())
				b.Cleanup(cancel)
				cs[i] = &grouped{ctx: ctx}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for _, c := range cs {
					c.state.Store(inQueue)
				}
				g.queue = append(g.queue, cs...)
				next, run := g.take()
				endGroup(next, run)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/create")
		})
	}
}

// endGroup is what ends a group's bookkeeping once it is answered.
func endGroup(_ []*grouped, run *groupRun) { run.cancel() }
