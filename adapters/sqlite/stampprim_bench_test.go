//go:build linux

package sqlite

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sety-io/sety/internal/groupcommit"
)

// BenchmarkStampPrimitives measures, on a connection of its own opened as
// the stamp check's is, what one statement a check could run costs: the
// thread's CPU around the statement alone (RUSAGE_THREAD, the goroutine
// locked to its thread; the statement runs on it, modernc.org/sqlite being
// Go), so a write made between two checks by the other handle is not
// counted. "changed": the other handle commits a write before every check.
//
//	go test ./adapters/sqlite -run '^$' -bench StampPrimitives -cpu 1
func BenchmarkStampPrimitives(b *testing.B) {
	queries := []struct{ name, q string }{
		{"clock", ``},
		{"select1", `SELECT 1`},
		{"data_version", `PRAGMA data_version`},
		{"stamp", readStamp},
		{"stamp+data_version", `SELECT n, (SELECT data_version FROM pragma_data_version) FROM main.incident_stamp WHERE id = 1`},
	}
	for _, changed := range []bool{false, true} {
		for _, q := range queries {
			name := q.name + "/unchanged"
			if changed {
				name = q.name + "/changed"
			}
			b.Run(name, func(b *testing.B) { benchPrimitive(b, q.q, changed) })
		}
	}
}

func benchPrimitive(b *testing.B, query string, changed bool) {
	ctx := context.Background()
	a, other := openPair(b)
	pool, err := sql.Open("sqlite", a.dsn+"&_pragma=query_only(1)")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	clockOnly := query == ""
	if clockOnly {
		query = "SELECT 1" // prepared, not run: the clock's own cost
	}
	stmt, err := prepareOn(ctx, conn, query)
	if err != nil {
		b.Fatal(err)
	}
	dest := make([]sqldriver.Value, 2)
	run := func(any) error {
		rows, err := stmt.QueryContext(ctx, nil)
		if err != nil {
			return err
		}
		if err := rows.Next(dest[:len(rows.Columns())]); err != nil {
			return err
		}
		return rows.Close()
	}
	writes := 0
	write := func() {
		writes++ // a new name: a write of the same bytes changes no page
		if err := other.w.Do(ctx, func(tx *groupcommit.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE organizations SET name = ? WHERE id = ?`, strconv.Itoa(writes), testTenant.OrgID)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	for b.Loop() {
		if changed {
			b.StopTimer()
			write()
			b.StartTimer()
		}
		before := threadCPU()
		if !clockOnly {
			if err := conn.Raw(run); err != nil {
				b.Fatal(err)
			}
		}
		cpu += threadCPU() - before
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "thread-cpu-ns/op")
}

// threadCPU is clock_gettime(CLOCK_THREAD_CPUTIME_ID): the calling
// thread's CPU, to the nanosecond.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
