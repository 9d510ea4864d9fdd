package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// processProbe splits PostgreSQL's CPU over one measurement by process,
// for -statements: each server's backends (by application_name), the
// auxiliary processes (walwriter, checkpointer, background writer,
// autovacuum) by backend_type, and the processes that ended meanwhile
// (the postmaster's waited-for children). User and system time apart:
// a commit's WAL flush (fdatasync) is system time of the backend, or of
// the walwriter, that does it. What pg_stat_statements cannot say (it
// counts executor wall time, not CPU, and nothing of a commit) this does.
type processProbe struct {
	conn       *pgx.Conn
	postmaster int
	before     map[int]procTicks
	labels     map[int]string
}

// procTicks is a process's user and system CPU time in clock ticks.
type procTicks struct{ user, sys int64 }

// readProcTicks reads pid's own CPU time, and with ended its waited-for
// children's (cutime, cstime) instead.
func readProcTicks(pid int, ended bool) (procTicks, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTicks{}, false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	i, j := 11, 12 // utime, stime
	if ended {
		i, j = 13, 14 // cutime, cstime
	}
	u, _ := strconv.ParseInt(f[i], 10, 64)
	s, _ := strconv.ParseInt(f[j], 10, 64)
	return procTicks{u, s}, true
}

// endedPID stands for the postmaster's ended children in the maps.
const endedPID = -1

func (p *processProbe) snapshot() map[int]procTicks {
	out := map[int]procTicks{}
	for _, pid := range append(children(p.postmaster), p.postmaster) {
		if t, ok := readProcTicks(pid, false); ok {
			out[pid] = t
		}
	}
	if t, ok := readProcTicks(p.postmaster, true); ok {
		out[endedPID] = t
	}
	return out
}

// label names each process of the cluster that pg_stat_activity lists.
func (p *processProbe) label(ctx context.Context) error {
	rows, err := p.conn.Query(ctx, `SELECT pid, backend_type, coalesce(application_name, ''), pid = pg_backend_pid() FROM pg_stat_activity`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pid       int
			typ, app  string
			isMonitor bool
		)
		if err := rows.Scan(&pid, &typ, &app, &isMonitor); err != nil {
			return err
		}
		switch {
		case isMonitor:
			p.labels[pid] = "pgscale's monitor"
		case typ == "client backend" && app != "":
			p.labels[pid] = "backends of " + app
		default:
			p.labels[pid] = typ
		}
	}
	return rows.Err()
}

func startProcesses(ctx context.Context, conn *pgx.Conn, postmaster int) (*processProbe, error) {
	p := &processProbe{conn: conn, postmaster: postmaster, labels: map[int]string{}}
	p.before = p.snapshot()
	return p, p.label(ctx)
}

// report returns each label's processes and user and system µs of CPU
// per create, the most first.
func (p *processProbe) report(ctx context.Context, creates float64) (string, error) {
	after := p.snapshot()
	if err := p.label(ctx); err != nil || creates <= 0 {
		return "", err
	}
	type sum struct {
		procs     int
		user, sys int64
	}
	sums := map[string]*sum{}
	for pid, t := range after {
		name := p.labels[pid]
		switch {
		case pid == endedPID:
			name = "ended during the measurement"
		case pid == p.postmaster:
			name = "postmaster"
		case name == "":
			name = "unlisted"
		}
		b := p.before[pid]
		s := sums[name]
		if s == nil {
			s = &sum{}
			sums[name] = s
		}
		s.procs++
		s.user += t.user - b.user
		s.sys += t.sys - b.sys
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := sums[names[i]], sums[names[j]]
		return a.user+a.sys > b.user+b.sys
	})
	us := func(ticks int64) float64 { return float64(ticks) * 1e6 / clockTicks / creates }
	var out strings.Builder
	fmt.Fprintf(&out, "PostgreSQL CPU per create by process: %5s %8s %8s  processes\n", "", "user µs", "sys µs")
	for _, n := range names {
		s := sums[n]
		if s.user+s.sys == 0 {
			continue
		}
		fmt.Fprintf(&out, "             %-40s %8.1f %8.1f  %d\n", n, us(s.user), us(s.sys), s.procs)
	}
	return strings.TrimRight(out.String(), "\n"), nil
}
