package main

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParsePlansSpreadsEveryTenant(t *testing.T) {
	for _, c := range []struct {
		plans string
		n     int
		want  map[string]int
	}{
		{"starter=1,growth=1,enterprise=1", 200, map[string]int{"starter": 67, "growth": 67, "enterprise": 66}},
		{"enterprise=1", 5, map[string]int{"enterprise": 5}},
		{"starter=3, growth=1", 8, map[string]int{"starter": 6, "growth": 2}},
		{"starter=1,growth=1,enterprise=1", 1, map[string]int{"starter": 1}},
	} {
		got, err := parsePlans(c.plans, c.n)
		if err != nil {
			t.Fatalf("parsePlans(%q, %d): %v", c.plans, c.n, err)
		}
		total := 0
		for _, p := range planNames {
			total += got[p]
			if got[p] != c.want[p] {
				t.Errorf("parsePlans(%q, %d)[%s] = %d, want %d", c.plans, c.n, p, got[p], c.want[p])
			}
		}
		if total != c.n {
			t.Errorf("parsePlans(%q, %d) gives %d tenants", c.plans, c.n, total)
		}
	}
	for _, bad := range []string{"", "free=1", "starter=-1", "starter=x", "starter=1,starter=2", "starter=0", "starter=NaN", "starter=Inf"} {
		if _, err := parsePlans(bad, 10); err == nil {
			t.Errorf("parsePlans(%q) accepted", bad)
		}
	}
}

// plannedTenants makes tenants as setUp does, without a server.
func plannedTenants(t *testing.T, plans string, n, perEnterprise int) []*tenant {
	t.Helper()
	counts, err := parsePlans(plans, n)
	if err != nil {
		t.Fatal(err)
	}
	var ts []*tenant
	for _, p := range planNames {
		for range counts[p] {
			tn := newTenant(p, "org_x", p, nil)
			tn.responders = respondersFor(tn.limit, perEnterprise)
			ts = append(ts, tn)
		}
	}
	assignShares(ts)
	return ts
}

func TestSharesFollowPlansAndBudgetHolds(t *testing.T) {
	ts := plannedTenants(t, "starter=1,growth=1,enterprise=1", 200, 12)
	sum := 0.0
	for _, tn := range ts {
		sum += tn.share
	}
	if sum < 0.999999 || sum > 1.000001 {
		t.Errorf("shares add up to %v", sum)
	}
	// Every tenant runs at the same fraction of its plan.
	frac := func(tn *tenant) float64 { return tn.share / float64(tn.limit) }
	if a, b := frac(ts[0]), frac(ts[len(ts)-1]); a < b*0.999999 || a > b*1.000001 {
		t.Errorf("a starter runs at %v of its plan per unit of rate, an enterprise at %v", a, b)
	}
	if got := []int{respondersFor(60, 12), respondersFor(300, 12), respondersFor(1000, 12)}; got[0] != 2 || got[1] != 4 || got[2] != 12 {
		t.Errorf("responders by plan = %v, want [2 4 12]", got)
	}

	// Σ limits = 67×60 + 67×300 + 66×1000 = 90,120 a minute; at 60 % of
	// each plan, less a starter's setup (1 + 2 codes + 2 responders = 5 of
	// its 60), the rate can be (0.6×60 − 5) / (60 × 60/90120) ≈ 776.
	if err := checkBudget(ts, 770, 1, 0.6); err != nil {
		t.Errorf("770 req/s refused: %v", err)
	}
	err := checkBudget(ts, 780, 1, 0.6)
	if err == nil || !strings.Contains(err.Error(), "at most -rate 776") {
		t.Errorf("780 req/s: %v, want a refusal naming -rate 776", err)
	}
	// A resolve that scans first makes an operation up to two requests.
	if err := checkBudget(ts, 670, 1.15, 0.6); err != nil {
		t.Errorf("670 operations at 1.15 requests each refused: %v", err)
	}
	if err := checkBudget(ts, 680, 1.15, 0.6); err == nil || !strings.Contains(err.Error(), "at most -rate 674") {
		t.Errorf("680 operations at 1.15 requests each: %v, want a refusal naming -rate 674", err)
	}
	unlimited := []*tenant{newTenant("bootstrap", "", "", nil)}
	assignShares(unlimited)
	if err := checkBudget(unlimited, 1e6, 1, 0.6); err != nil {
		t.Errorf("a tenant without a plan was refused: %v", err)
	}
}

func TestPickTenantFollowsShares(t *testing.T) {
	ts := plannedTenants(t, "starter=1,enterprise=1", 2, 12)
	cum := cumulativeShares(ts)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	const n = 106_000
	for range n {
		counts[pickTenant(ts, cum, rng).plan]++
	}
	// 60 : 1000 of the picks, within a few standard deviations.
	want := n * 60 / 1060
	if d := counts["starter"] - want; d < -300 || d > 300 {
		t.Errorf("starter picked %d times of %d, want about %d", counts["starter"], n, want)
	}
}

func TestParseOrgLine(t *testing.T) {
	org, key, err := parseOrgLine("org_0123456789abcdef sety_live_0123456789abcdef0123456789abcdef\n")
	if err != nil || org != "org_0123456789abcdef" || key != "sety_live_0123456789abcdef0123456789abcdef" {
		t.Errorf("got %q %q %v", org, key, err)
	}
	for _, bad := range []string{"", "org_1\n", "sety_live_1 org_1\n", "org_1 sety_test_1\n"} {
		if _, _, err := parseOrgLine(bad); err == nil {
			t.Errorf("parseOrgLine(%q) accepted", bad)
		}
	}
}

func TestScrapeSumMatchesLabels(t *testing.T) {
	text := `# HELP sety_incidents_active Active incidents.
sety_incidents_active{environment="live",status="created"} 2
sety_incidents_active{environment="live",status="dispatching"} 7
sety_incidents_active{environment="test",status="dispatching"} 100
sety_webhook_pending_deliveries 12
sety_webhook_pending_deliveries_max 9
sety_rate_limit_rejections_total{plan="starter"} 3
sety_rate_limit_rejections_total{plan="growth"} 4
sety_store_commit_seconds_count 1.5e+06
`
	for _, c := range []struct {
		name   string
		labels []string
		want   int
		found  bool
	}{
		{"sety_incidents_active", []string{`status="dispatching"`, `environment="live"`}, 7, true},
		{"sety_incidents_active", []string{`status="dispatching"`}, 107, true},
		{"sety_incidents_active", []string{`status="assigned"`}, 0, false},
		{"sety_webhook_pending_deliveries", nil, 12, true}, // not the _max beside it
		{"sety_rate_limit_rejections_total", nil, 7, true},
		{"sety_store_commit_seconds_count", nil, 1_500_000, true},
		{"sety_missing", nil, 0, false},
	} {
		got, found := scrapeSum(text, c.name, c.labels...)
		if got != c.want || found != c.found {
			t.Errorf("scrapeSum(%s, %v) = %d, %v; want %d, %v", c.name, c.labels, got, found, c.want, c.found)
		}
	}
}

func TestStorageOfFollowsTheServersEnvironment(t *testing.T) {
	for _, c := range []struct {
		env        []string
		path, url_ string
	}{
		{[]string{"SETY_DB=/tmp/a.db"}, "/tmp/a.db", ""},
		{[]string{"SETY_DB=/tmp/a.db", "SETY_DB=/tmp/b.db"}, "/tmp/b.db", ""}, // the last wins, as -env does
		{[]string{"SETY_DB=/tmp/a.db", "SETY_DATABASE_URL=postgres://x/y"}, "", "postgres://x/y"},
		{[]string{"SETY_DB=/tmp/a.db", "SETY_MEMORY=1"}, "", ""},
		{[]string{"SETY_DB=/tmp/a.db", "SETY_MEMORY=false"}, "/tmp/a.db", ""},
	} {
		path, url := storageOf(c.env)
		if path != c.path || url != c.url_ {
			t.Errorf("storageOf(%q) = %q, %q; want %q, %q", c.env, path, url, c.path, c.url_)
		}
	}
	if databaseSize("", "") != nil {
		t.Error("a memory store has a size function")
	}
}

func TestQueueIsBoundedFIFO(t *testing.T) {
	var q queue
	for i := range queueSize + 10 {
		q.push(strings.Repeat("x", i%3) + string(rune('a'+i%26)))
	}
	if len(q.ids) != queueSize {
		t.Fatalf("%d queued, want %d", len(q.ids), queueSize)
	}
	first, ok := q.pop()
	if !ok || first != strings.Repeat("x", 10%3)+string(rune('a'+10%26)) {
		t.Errorf("first pop %q, %v: want the 11th pushed (the first ten were dropped)", first, ok)
	}
	var empty queue
	if _, ok := empty.pop(); ok {
		t.Error("an empty queue popped")
	}
}

func TestOverPlanCountsApart(t *testing.T) {
	w := newWindow()
	w.request("get", 2*time.Millisecond, succeeded, http.StatusOK, time.Millisecond)
	w.request(overPlanOp, time.Millisecond, limited, http.StatusTooManyRequests, 0)
	w.request(overPlanOp, time.Millisecond, succeeded, http.StatusOK, 0)
	w.request(overPlanOp, time.Millisecond, failed, http.StatusInternalServerError, 0)
	l := w.take()
	if l.Requests != 1 || l.Errors != 0 || len(l.Statuses) != 0 || l.All.N != 1 || l.Lag.N != 1 {
		t.Errorf("the workload's figures hold the over-plan tenant: requests %d errors %d statuses %v latency n %d lag n %d",
			l.Requests, l.Errors, l.Statuses, l.All.N, l.Lag.N)
	}
	if o := l.OverPlan; o == nil || o.Requests != 3 || o.Limited != 1 || o.OK != 1 || o.Errors != 1 {
		t.Errorf("over-plan figures %+v", l.OverPlan)
	}
	s := summarizeRun([]report{{Phase: "load", load: l}}, nil, 50*time.Millisecond, nil)
	if o := s.OverPlan; o == nil || o.Limited != 1 || o.Errors != 1 {
		t.Errorf("summary over-plan %+v", s.OverPlan)
	}
}

func TestSummaryOverTheWholeRun(t *testing.T) {
	mk := func(from, to float64, lats []time.Duration, errors int) report {
		w := newWindow()
		for _, d := range lats {
			w.request("get", d, succeeded, http.StatusOK, 0)
		}
		for range errors {
			w.request("create", time.Millisecond, failed, http.StatusInternalServerError, 0)
		}
		return report{Phase: "load", From: from, To: to, Target: 2, load: w.take()}
	}
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, v := range n {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	// 100 requests, p99 (the 99th) 40 ms, max 60: sustained under 50 ms.
	first := make([]int, 50)
	last := make([]int, 50)
	for i := range 50 {
		first[i], last[i] = 1+i%10, 1+i%10
	}
	first[0], last[0] = 40, 60
	s := summarizeRun([]report{mk(0, 25, ms(first...), 0), mk(25, 50, ms(last...), 0)}, nil, 50*time.Millisecond, nil)
	if s.Run.N != 100 || s.Run.P99 != 40*time.Millisecond || s.Run.Max != 60*time.Millisecond || s.OpsRun["get"].N != 100 {
		t.Errorf("run %+v, get %+v", s.Run, s.OpsRun["get"])
	}
	if !s.Sustained || s.RPS != 2 {
		t.Errorf("sustained %v at %v req/s, want true at 2", s.Sustained, s.RPS)
	}
	s = summarizeRun([]report{mk(0, 25, ms(first...), 0), mk(25, 50, ms(last...), 1)}, nil, 50*time.Millisecond, nil)
	if s.Sustained {
		t.Error("a run with an error counts as sustained")
	}
	s = summarizeRun([]report{mk(0, 25, ms(first...), 0), mk(25, 50, ms(last...), 0)}, nil, 40*time.Millisecond, nil)
	if s.Sustained {
		t.Error("a run whose p99 is at the bar counts as sustained")
	}
	before, after := 5, 9
	r := mk(0, 25, ms(1), 0)
	r.RateLimited = &after
	if s := summarizeRun([]report{r}, nil, time.Second, &before); s.RateLimited == nil || *s.RateLimited != 4 {
		t.Errorf("429s during the load %v, want 4", s.RateLimited)
	}
}
