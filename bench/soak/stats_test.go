package main

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 0.99, 99 * time.Millisecond},
		{"p50 of 1..100", hundred, 0.50, 50 * time.Millisecond},
		{"max", hundred, 1, 100 * time.Millisecond},
		{"tiny q is the min", hundred, 0.0001, 1 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

func TestSummarizeSorts(t *testing.T) {
	got := summarize([]time.Duration{30, 10, 20})
	want := dist{N: 3, P50: 20, P90: 30, P99: 30, Max: 30}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (dist{}) {
		t.Fatalf("summarize(nil) = %+v, want zero", got)
	}
}

func TestWindowTakeAggregatesAndResets(t *testing.T) {
	w := newWindow()
	w.request("create", 10*time.Millisecond, succeeded, http.StatusCreated, time.Millisecond)
	w.request("create", 30*time.Millisecond, failed, http.StatusInternalServerError, 0)
	w.request("get", 2*time.Millisecond, succeeded, http.StatusOK, 0)
	w.request("resolve", 5*time.Millisecond, raced, http.StatusConflict, 0)
	w.request("get", 4*time.Millisecond, failed, 0, 0)
	w.miss()
	w.dispatched(3 * time.Millisecond)
	w.hook(40*time.Millisecond, false)
	w.hook(time.Second, true)

	l := w.take()
	if l.Requests != 5 || l.Errors != 2 || l.Conflicts != 1 || l.Missed != 1 {
		t.Errorf("requests %d errors %d conflicts %d missed %d, want 5 2 1 1", l.Requests, l.Errors, l.Conflicts, l.Missed)
	}
	if l.Statuses[500] != 1 || l.Statuses[0] != 1 || len(l.Statuses) != 2 {
		t.Errorf("statuses %v, want 500 ×1 and transport ×1 (a 409 race is not an error)", l.Statuses)
	}
	if l.OpRaced["resolve"] != 1 || len(l.OpRaced) != 1 {
		t.Errorf("op conflicts %v", l.OpRaced)
	}
	if l.OpErrors["create"] != 1 || l.OpErrors["get"] != 1 || len(l.OpErrors) != 2 {
		t.Errorf("op errors %v", l.OpErrors)
	}
	if c := l.Ops["create"]; c.N != 2 || c.P50 != 10*time.Millisecond || c.Max != 30*time.Millisecond {
		t.Errorf("create %+v", c)
	}
	if l.All.N != 5 || l.All.Max != 30*time.Millisecond || l.All.P50 != 5*time.Millisecond {
		t.Errorf("all %+v", l.All)
	}
	if l.Lag.Max != time.Millisecond || l.Dispatch.N != 1 || l.Hooks.N != 1 || l.Hooks.Max != 40*time.Millisecond || l.DupHooks != 1 {
		t.Errorf("lag %+v dispatch %+v hooks %+v dup %d", l.Lag, l.Dispatch, l.Hooks, l.DupHooks)
	}

	if next := w.take(); next.Requests != 0 || next.Missed != 0 || next.All.N != 0 || next.Hooks.N != 0 || next.DupHooks != 0 || len(next.Statuses) != 0 {
		t.Errorf("the next window is not empty: %+v", next)
	}
}

func TestSummarizeRunComparesFirstAndLastLoadWindow(t *testing.T) {
	cpu := func(f float64) *float64 { return &f }
	n := func(i int) *int { return &i }
	mk := func(phase string, p99 time.Duration, disp int, c *float64, from, to float64) report {
		return report{Phase: phase, From: from, To: to, CPU: c, Dispatching: n(disp),
			load: load{Requests: 10, All: dist{N: 10, P99: p99}, Ops: map[string]dist{"create": {N: 1, P99: 2 * p99}},
				Dispatch: dist{N: 1, P99: p99 / 10, Max: p99 / 5}}}
	}
	s := summarizeRun([]report{
		mk("load", 10*time.Millisecond, 0, cpu(90), 0, 30),
		mk("load", 50*time.Millisecond, 7, cpu(95), 30, 60),
		mk("load", 40*time.Millisecond, 9, cpu(99), 60, 90),
		mk("idle", 0, 9, cpu(10), 90, 100),
		mk("idle", 0, 9, cpu(40), 100, 130),
	}, nil, 50*time.Millisecond, nil)
	if s.LoadWindows != 3 || s.Requests != 30 {
		t.Errorf("windows %d requests %d, want 3 and 30", s.LoadWindows, s.Requests)
	}
	if s.P99Ratio != 4 || s.CreateP99Rat != 4 {
		t.Errorf("p99 ratio %v create %v, want 4 and 4 (last over first)", s.P99Ratio, s.CreateP99Rat)
	}
	if s.DispatchP99 != 5*time.Millisecond || s.DispatchMax != 10*time.Millisecond {
		t.Errorf("dispatch p99 %v max %v, want the worst window's", s.DispatchP99, s.DispatchMax)
	}
	if *s.DispatchFirst != 0 || *s.DispatchLast != 9 {
		t.Errorf("queue %d → %d", *s.DispatchFirst, *s.DispatchLast)
	}
	if s.IdleSeconds != 40 || s.IdleCPU == nil || *s.IdleCPU != 32.5 {
		t.Errorf("idle %v s cpu %v, want 40 s at 32.5%% (time-weighted)", s.IdleSeconds, s.IdleCPU)
	}
}

func TestParseMix(t *testing.T) {
	m, err := parseMix("create=3, get=1,heatmap=0")
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "create=3,get=1" || m.weight("heatmap") != 0 {
		t.Errorf("mix %s", m)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	got := map[string]int{}
	for range 4000 {
		got[m.pick(rng)]++
	}
	if got["create"] < 2800 || got["create"] > 3200 || got["create"]+got["get"] != 4000 {
		t.Errorf("picks %v, want about 3000 creates and 1000 gets", got)
	}
	if w := m.without("create"); w.String() != "get=1" {
		t.Errorf("without create: %s", w)
	}
	for _, bad := range []string{"", "create=0", "fly=1", "create=-1", "create", "get=1,get=2"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
	if _, err := parseMix(defaultMix); err != nil {
		t.Errorf("default mix: %v", err)
	}
}

func TestRingPicksAmongNewest(t *testing.T) {
	var r ring
	rng := rand.New(rand.NewPCG(3, 4))
	if _, found := r.pick(rng, 10); found {
		t.Fatal("empty ring picked")
	}
	for i := range ringSize + 500 {
		r.add(strconv.Itoa(i))
	}
	newest := map[string]bool{}
	for i := ringSize + 500 - 3; i < ringSize+500; i++ {
		newest[strconv.Itoa(i)] = true
	}
	for range 200 {
		id, found := r.pick(rng, 3)
		if !found || !newest[id] {
			t.Fatalf("pick(3) = %q, not among the three newest", id)
		}
	}
}

func TestProcParsers(t *testing.T) {
	stat := "4242 (sety server) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0"
	if got, err := parseStatCPU(stat); err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s (300 ticks)", got, err)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("short stat accepted")
	}
	if got, err := parseVmRSS("Name:\tsety\nVmPeak:\t 9000 kB\nVmRSS:\t  2048 kB\n"); err != nil || got != 2<<20 {
		t.Errorf("parseVmRSS = %v, %v", got, err)
	}
	metrics := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 57\ngo_goroutines_total{x=\"y\"} 3\n"
	if n, found := scrapeSum(metrics, "go_goroutines"); !found || n != 57 {
		t.Errorf("scrapeSum = %d, %v", n, found)
	}
	if _, found := scrapeSum("other 1\n", "go_goroutines"); found {
		t.Error("found a gauge that is not there")
	}
	if got := genericError("incident inc_zeptb07nbd4r8ou4: database is locked (5)"); got != "incident #: database is locked (#)" {
		t.Errorf("genericError = %q", got)
	}
}

func TestPoolDoesNotBringBackDoneIncidents(t *testing.T) {
	p := newPool()
	p.add("inc_a", false)
	id, advanced, found := p.take()
	if !found || id != "inc_a" || advanced {
		t.Fatalf("take = %q %v %v", id, advanced, found)
	}
	p.add("inc_a", false) // a list answered before the resolve
	if _, _, found := p.take(); found {
		t.Fatal("a taken incident came back")
	}
	p.put("inc_a", true) // on_scene step: still holds its responder
	if id, advanced, found := p.take(); !found || id != "inc_a" || !advanced {
		t.Fatalf("after put: take = %q %v %v", id, advanced, found)
	}
	p.add("inc_b", false)
	p.add("inc_b", true) // seen on_scene since
	p.remove("inc_c")
	p.add("inc_c", false)
	if id, advanced, found := p.take(); id != "inc_b" || !advanced || !found {
		t.Fatalf("take = %q %v %v, want inc_b advanced", id, advanced, found)
	}
	if _, _, found := p.take(); found {
		t.Fatal("a cancelled incident came back")
	}
}
