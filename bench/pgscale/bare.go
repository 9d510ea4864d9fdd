package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// groupStats are what bench/baseline servers' GET /debug/groups answer,
// summed: the groups committed, the creates they carried, and the wall
// time of their commits in nanoseconds.
type groupStats struct{ Groups, Creates, CommitNanos int64 }

// groupsOf sums the groupStats of the bench/baseline servers at targets.
func groupsOf(ctx context.Context, targets []string) (sum groupStats, err error) {
	for _, t := range targets {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t+"/debug/groups", nil)
		if err != nil {
			return sum, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return sum, err
		}
		var g struct {
			Groups      int64 `json:"groups"`
			Creates     int64 `json:"creates"`
			CommitNanos int64 `json:"commit_nanos"`
		}
		err = json.NewDecoder(resp.Body).Decode(&g)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return sum, fmt.Errorf("%s/debug/groups: %s (%v)", t, resp.Status, err)
		}
		sum.Groups += g.Groups
		sum.Creates += g.Creates
		sum.CommitNanos += g.CommitNanos
	}
	return sum, nil
}

// machineTicks is the whole machine's busy and total CPU time in clock
// ticks (/proc/stat): busy is all but idle and iowait.
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// machineBusy is the share of the machine's CPU time busy between two
// readings of machineTicks, in % of one core (200 % is both cores of two).
func machineBusy(busy0, total0, busy1, total1 int64, cpus int) float64 {
	if total1 <= total0 {
		return 0
	}
	return 100 * float64(cpus) * float64(busy1-busy0) / float64(total1-total0)
}
