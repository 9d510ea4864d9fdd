package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// perfPostgres samples PostgreSQL's processes with Linux perf (perf
// record, on the cpu-clock) for d, into dir as r<round>-c<clients>-<config>.perf.data,
// and returns a function that waits until the file is written. The
// processes' CPU split by process (-statements) says which processes
// spend; perf says on what (`perf report -i FILE --sort sym`): a commit,
// the planner, a snapshot, a lock's spin. PostgreSQL's binary exports
// most of its functions, so a stripped build still names them.
func (b *bench) perfPostgres(ctx context.Context, round, clients int, cfg string, d time.Duration) func() {
	var pids []string
	for _, pid := range append(children(b.postmaster), b.postmaster) {
		pids = append(pids, strconv.Itoa(pid))
	}
	path := filepath.Join(b.o.perf, fmt.Sprintf("r%d-c%d-%s.perf.data", round, clients, cfg))
	cmd := exec.CommandContext(ctx, "perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,8192", "-p", strings.Join(pids, ","),
		"-o", path, "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(b.w, "           perf: %v\n", err)
		return func() {}
	}
	return func() {
		if err := cmd.Wait(); err != nil {
			fmt.Fprintf(b.w, "           perf: %v\n", err)
		}
	}
}
