package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// report is one window: the workload's figures and the server's state at
// its end. Pointers are null (n/a) when a figure could not be read.
type report struct {
	Type    string  `json:"type"`  // "window"
	Phase   string  `json:"phase"` // load or idle
	Window  int     `json:"window"`
	From    float64 `json:"from_s"` // seconds since the load started
	To      float64 `json:"to_s"`
	RPS     float64 `json:"rps"`
	Target  float64 `json:"target_rps"`
	load            // the workload's figures
	Created *int    `json:"created"`
	// Dispatching is the queue: live incidents waiting for a responder.
	Dispatching  *int `json:"dispatching"`
	Pending      *int `json:"pending_deliveries"`
	PendingSlow  *int `json:"pending_deliveries_hanging,omitempty"`
	HangingConns *int `json:"hanging_connections,omitempty"`

	RSS        *int64   `json:"rss_bytes"`
	CPU        *float64 `json:"cpu_percent"` // of one core, over the window
	Goroutines *int     `json:"goroutines"`
	DBBytes    *int64   `json:"database_bytes"`
	// RateLimited is sety_rate_limit_rejections_total at the window's end:
	// every 429 the server gave since it started.
	RateLimited *int `json:"rate_limited_total"`
	// Commits is how many store commits the window saw
	// (sety_store_commit_seconds_count; SQLite's group commits or
	// PostgreSQL's transactions), whoever caused them.
	Commits *int `json:"commits"`
	// LeaseWaits is how many requests of the window waited for a store
	// write to lease rate-limit budget (sety_rate_limit_lease_waits_total).
	LeaseWaits *int `json:"lease_waits"`

	Waiting       int           `json:"dispatch_samples_waiting"`
	OldestWaiting time.Duration `json:"dispatch_oldest_waiting_ns"`
	SampleReads   int           `json:"sample_reads"`
	SampleErrors  int           `json:"sample_read_errors"`
	MonitorErrors []string      `json:"monitor_errors,omitempty"`
}

// monitor reads the server's state at the end of each window.
type monitor struct {
	api        *api
	proc       *procStats // nil when the server's process is unknown
	byMetrics  bool       // the queue and backlog of every tenant, from /metrics; else the API's counts of endpointOf's
	endpointOf *tenant    // whose webhook endpoint is the healthy one counted through the API
	slow       string     // the hanging endpoint (of the first tenant), or ""
	hanging    *hanging
	dbSize     func(context.Context) (int64, error) // nil when unknown

	lastCPU            time.Duration
	lastAt             time.Time
	rateLimitedAtStart *int // the server's 429 counter when the load began
	lastCommits        *int // the store's commit counter at the last window's end
	lastLeaseWaits     *int // the rate limiter's lease waits, likewise
}

// begin starts the CPU clock and reads the 429 counter.
func (m *monitor) begin(ctx context.Context) {
	if text, found := m.api.metrics(ctx); found {
		if n, found := scrapeSum(text, "sety_store_commit_seconds_count"); found {
			m.lastCommits = &n
		}
		if n, found := scrapeSum(text, "sety_rate_limit_lease_waits_total"); found {
			m.lastLeaseWaits = &n
		}
		if n, found := scrapeSum(text, "sety_rate_limit_rejections_total"); found {
			m.rateLimitedAtStart = &n
		} else {
			zero := 0 // a counter with no label set yet: nothing refused
			m.rateLimitedAtStart = &zero
		}
	}
	m.lastAt = time.Now()
	if m.proc != nil {
		m.lastCPU, _ = m.proc.cpu()
	}
}

// observe fills r's server figures.
func (m *monitor) observe(ctx context.Context, r *report) {
	now := time.Now()
	if m.proc != nil {
		if c, err := m.proc.cpu(); err == nil {
			pct := 100 * float64(c-m.lastCPU) / float64(now.Sub(m.lastAt))
			r.CPU = &pct
			m.lastCPU = c
		} else {
			r.MonitorErrors = append(r.MonitorErrors, "cpu: "+err.Error())
		}
		if rss, err := m.proc.rss(); err == nil {
			r.RSS = &rss
		}
	}
	m.lastAt = now

	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if m.dbSize != nil {
		if n, err := m.dbSize(ctx); err == nil {
			r.DBBytes = &n
		} else {
			r.MonitorErrors = append(r.MonitorErrors, "database size: "+err.Error())
		}
	}
	count := func(dst **int, path string) {
		n, err := m.endpointOf.api.total(ctx, path)
		if err != nil {
			r.MonitorErrors = append(r.MonitorErrors, err.Error())
			return
		}
		*dst = &n
	}
	if m.slow != "" {
		count(&r.PendingSlow, "/webhooks/"+m.slow+"/deliveries?status=pending&limit=1")
		n := m.hanging.accepted()
		r.HangingConns = &n
	}
	text, haveMetrics := m.api.metrics(ctx)
	gauge := func(dst **int, name string, labels ...string) {
		if n, found := scrapeSum(text, name, labels...); found {
			*dst = &n
		} else if haveMetrics && m.byMetrics {
			r.MonitorErrors = append(r.MonitorErrors, "no "+name+" in /metrics")
		}
	}
	if haveMetrics {
		gauge(&r.Goroutines, "go_goroutines")
		n, _ := scrapeSum(text, "sety_rate_limit_rejections_total") // no sample yet: none refused
		r.RateLimited = &n
		r.Commits = delta(text, "sety_store_commit_seconds_count", &m.lastCommits)
		r.LeaseWaits = delta(text, "sety_rate_limit_lease_waits_total", &m.lastLeaseWaits)
	}
	if !m.byMetrics {
		count(&r.Created, "/incidents?status=created&limit=1")
		count(&r.Dispatching, "/incidents?status=dispatching&limit=1")
		count(&r.Pending, "/webhooks/"+m.endpointOf.endpoint+"/deliveries?status=pending&limit=1")
		return
	}
	if !haveMetrics {
		r.MonitorErrors = append(r.MonitorErrors, "no /metrics: no queue or backlog figures")
		return
	}
	gauge(&r.Created, "sety_incidents_active", `status="created"`, `environment="live"`)
	gauge(&r.Dispatching, "sety_incidents_active", `status="dispatching"`, `environment="live"`)
	gauge(&r.Pending, "sety_webhook_pending_deliveries")
	if r.Pending != nil && r.PendingSlow != nil {
		n := max(0, *r.Pending-*r.PendingSlow) // the healthy endpoints' share
		r.Pending = &n
	}
}

// delta is how much the counter name grew since *last, which it updates;
// nil while either reading is missing.
func delta(text, name string, last **int) *int {
	n, found := scrapeSum(text, name)
	if !found {
		return nil
	}
	var d *int
	if *last != nil {
		v := n - **last
		d = &v
	}
	*last = &n
	return d
}

// printer writes reports as text for people or as JSON lines.
type printer struct {
	w    io.Writer
	json bool
}

func (p printer) window(r report) {
	if p.json {
		p.emit(r)
		return
	}
	fmt.Fprintf(p.w, "%-4s w%-2d %s–%s  %6.1f req/s", r.Phase, r.Window, clockTime(r.From), clockTime(r.To), r.RPS)
	if r.Target > 0 {
		fmt.Fprintf(p.w, " of %g (missed %d, lag p99 %s)", r.Target, r.Missed, ms(r.Lag.P99, r.Lag.N))
	}
	fmt.Fprintf(p.w, "  errors %d  409s %d  latency p50 %s p99 %s  create p50 %s p99 %s\n",
		r.Errors, r.Conflicts, ms(r.All.P50, r.All.N), ms(r.All.P99, r.All.N),
		ms(r.Ops["create"].P50, r.Ops["create"].N), ms(r.Ops["create"].P99, r.Ops["create"].N))
	fmt.Fprintf(p.w, "          create→dispatching p50 %s p99 %s max %s (n %d, waiting %d, oldest %s)  queue: created %s, dispatching %s\n",
		ms(r.Dispatch.P50, r.Dispatch.N), ms(r.Dispatch.P99, r.Dispatch.N), ms(r.Dispatch.Max, r.Dispatch.N), r.Dispatch.N,
		r.Waiting, secs(r.OldestWaiting), num(r.Created), num(r.Dispatching))
	fmt.Fprintf(p.w, "          webhooks: pending %s", num(r.Pending))
	if r.PendingSlow != nil || r.HangingConns != nil {
		fmt.Fprintf(p.w, " (hanging endpoint: pending %s, connections %s)", num(r.PendingSlow), num(r.HangingConns))
	}
	fmt.Fprintf(p.w, ", delivery p50 %s p99 %s (n %d, dup %d)  server: rss %s, cpu %s, goroutines %s, database %s, commits %s, lease waits %s, 429s so far %s\n",
		ms(r.Hooks.P50, r.Hooks.N), ms(r.Hooks.P99, r.Hooks.N), r.Hooks.N, r.DupHooks, mb(r.RSS), pct(r.CPU), num(r.Goroutines), mb(r.DBBytes),
		perRequest(r.Commits, r.Requests), perRequest(r.LeaseWaits, r.Requests), num(r.RateLimited))
	if o := r.OverPlan; o != nil {
		fmt.Fprintf(p.w, "          over-plan tenant: %d requests, %d ok, %d refused with 429, %d errors, latency p99 %s\n",
			o.Requests, o.OK, o.Limited, o.Errors, ms(o.Latency.P99, o.Latency.N))
	}
	if r.Errors > 0 {
		fmt.Fprintf(p.w, "          errors by op: %s; statuses %s\n", counts(r.OpErrors), statusCounts(r.Statuses))
	}
	if r.Conflicts > 0 {
		fmt.Fprintf(p.w, "          409s by op: %s\n", counts(r.OpRaced))
	}
	if r.SampleErrors > 0 || len(r.MonitorErrors) > 0 {
		fmt.Fprintf(p.w, "          monitoring: %d of %d sample reads failed; %s\n", r.SampleErrors, r.SampleReads, strings.Join(r.MonitorErrors, "; "))
	}
}

func (p printer) emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // every value here encodes
	}
	fmt.Fprintf(p.w, "%s\n", b)
}

// summary compares the last load window with the first, and sums up the
// idle phase and the server's log.
type summary struct {
	Type          string          `json:"type"` // "summary"
	LoadWindows   int             `json:"load_windows"`
	Requests      int             `json:"requests"`
	Errors        int             `json:"errors"`
	Conflicts     int             `json:"conflicts"`
	Missed        int             `json:"missed"`
	First         dist            `json:"latency_first"`
	Last          dist            `json:"latency_last"`
	P99Ratio      float64         `json:"p99_ratio"`
	CreateP99Rat  float64         `json:"create_p99_ratio"`
	OpsFirst      map[string]dist `json:"ops_first"`
	OpsLast       map[string]dist `json:"ops_last"`
	DispatchP99   time.Duration   `json:"max_create_to_dispatching_p99_ns"`
	DispatchMax   time.Duration   `json:"max_create_to_dispatching_ns"`
	DispatchFirst *int            `json:"dispatching_first"`
	DispatchLast  *int            `json:"dispatching_last"`
	PendingFirst  *int            `json:"pending_deliveries_first"`
	PendingLast   *int            `json:"pending_deliveries_last"`
	HooksFirst    dist            `json:"webhook_latency_first"`
	HooksLast     dist            `json:"webhook_latency_last"`
	PendingSlow   *int            `json:"pending_deliveries_hanging_last,omitempty"`
	RSSFirst      *int64          `json:"rss_first_bytes"`
	RSSLast       *int64          `json:"rss_last_bytes"`
	RPS           float64         `json:"rps"` // over the load phase
	Target        float64         `json:"target_rps"`
	Run           dist            `json:"latency_run"` // every workload request of the load phase
	OpsRun        map[string]dist `json:"ops_run"`
	MaxP99        time.Duration   `json:"max_p99_ns"`
	Sustained     bool            `json:"sustained"` // no error, nothing missed, run p99 below MaxP99
	DBFirst       *int64          `json:"database_bytes_first"`
	DBLast        *int64          `json:"database_bytes_last"`
	GoroutFirst   *int            `json:"goroutines_first"`
	GoroutLast    *int            `json:"goroutines_last"`
	RateLimited   *int            `json:"rate_limited_during_load"` // the server's 429s, the over-plan tenant's included
	Commits       *int            `json:"commits"`                  // the store's, over the load windows
	LeaseWaits    *int            `json:"lease_waits"`              // requests that waited for a rate-limit lease, likewise
	OverPlan      *overPlanLoad   `json:"over_plan,omitempty"`
	IdleSeconds   float64         `json:"idle_s,omitempty"`
	IdleCPU       *float64        `json:"idle_cpu_percent,omitempty"`
	Log           *logSummary     `json:"server_log,omitempty"`
}

// summarizeRun sums the reports up; maxP99 is the latency the run's p99
// must stay under to count as sustained, rateLimitedBefore the server's
// 429 counter before the load (nil: unknown).
func summarizeRun(reports []report, log *logSummary, maxP99 time.Duration, rateLimitedBefore *int) summary {
	s := summary{Type: "summary", Log: log, MaxP99: maxP99, OpsRun: map[string]dist{}}
	var loads, idles []report
	for _, r := range reports {
		if r.Phase == "idle" {
			idles = append(idles, r)
		} else {
			loads = append(loads, r)
		}
	}
	s.LoadWindows = len(loads)
	lats := map[string][]time.Duration{}
	var all []time.Duration
	for _, r := range loads {
		for op, l := range r.lats {
			lats[op] = append(lats[op], l...)
			all = append(all, l...)
		}
		if o := r.OverPlan; o != nil {
			if s.OverPlan == nil {
				s.OverPlan = &overPlanLoad{}
			}
			s.OverPlan.Requests += o.Requests
			s.OverPlan.Limited += o.Limited
			s.OverPlan.OK += o.OK
			s.OverPlan.Errors += o.Errors
		}
		s.Requests += r.Requests
		s.Errors += r.Errors
		s.Conflicts += r.Conflicts
		s.Missed += r.Missed
		s.DispatchP99 = max(s.DispatchP99, r.Dispatch.P99)
		s.DispatchMax = max(s.DispatchMax, r.Dispatch.Max)
	}
	for op, l := range lats {
		s.OpsRun[op] = summarize(l)
	}
	s.Commits = sumKnown(loads, func(r report) *int { return r.Commits })
	s.LeaseWaits = sumKnown(loads, func(r report) *int { return r.LeaseWaits })
	s.Run = summarize(all)
	if len(loads) > 0 {
		first, last := loads[0], loads[len(loads)-1]
		if d := last.To - first.From; d > 0 {
			s.RPS = float64(s.Requests) / d
		}
		s.Target = first.Target
		s.Sustained = s.Errors == 0 && s.Missed == 0 && s.Run.N > 0 && s.Run.P99 < maxP99
		s.DBFirst, s.DBLast = first.DBBytes, last.DBBytes
		s.GoroutFirst, s.GoroutLast = first.Goroutines, last.Goroutines
		if rateLimitedBefore != nil && last.RateLimited != nil {
			n := *last.RateLimited - *rateLimitedBefore
			s.RateLimited = &n
		}
		s.First, s.Last = first.All, last.All
		s.P99Ratio = ratio(last.All.P99, first.All.P99)
		s.CreateP99Rat = ratio(last.Ops["create"].P99, first.Ops["create"].P99)
		s.OpsFirst, s.OpsLast = first.Ops, last.Ops
		s.DispatchFirst, s.DispatchLast = first.Dispatching, last.Dispatching
		s.PendingFirst, s.PendingLast = first.Pending, last.Pending
		s.HooksFirst, s.HooksLast, s.PendingSlow = first.Hooks, last.Hooks, last.PendingSlow
		s.RSSFirst, s.RSSLast = first.RSS, last.RSS
	}
	var cpu, secs float64
	known := true
	for _, r := range idles {
		d := r.To - r.From
		secs += d
		if r.CPU == nil {
			known = false
			continue
		}
		cpu += *r.CPU * d
	}
	if len(idles) > 0 {
		s.IdleSeconds = secs
		if known && secs > 0 {
			c := cpu / secs
			s.IdleCPU = &c
		}
	}
	return s
}

// sumKnown adds up a figure of the reports; nil when any is unknown.
func sumKnown(rs []report, figure func(report) *int) *int {
	total := 0
	for _, r := range rs {
		v := figure(r)
		if v == nil {
			return nil
		}
		total += *v
	}
	return &total
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (p printer) summary(s summary) {
	if p.json {
		p.emit(s)
		return
	}
	w := p.w
	fmt.Fprintf(w, "\nsummary over %d load windows: %d requests, %d errors, %d 409s, %d missed\n", s.LoadWindows, s.Requests, s.Errors, s.Conflicts, s.Missed)
	verdict := "NOT sustained"
	if s.Sustained {
		verdict = "sustained"
	}
	fmt.Fprintf(w, "  %s: %.1f req/s of %g, latency over the run p50 %s p90 %s p99 %s (bar: 0 errors, 0 missed, p99 < %s)\n",
		verdict, s.RPS, s.Target, ms(s.Run.P50, s.Run.N), ms(s.Run.P90, s.Run.N), ms(s.Run.P99, s.Run.N), ms(s.MaxP99, 1))
	var runOps []string
	for _, op := range append(slices.Clone(opNames), "scan") {
		if d := s.OpsRun[op]; d.N > 0 {
			runOps = append(runOps, fmt.Sprintf("%s n %d p50 %s p90 %s p99 %s max %s", op, d.N, ms(d.P50, d.N), ms(d.P90, d.N), ms(d.P99, d.N), ms(d.Max, d.N)))
		}
	}
	if len(runOps) > 0 {
		fmt.Fprintf(w, "  by op over the run: %s\n", strings.Join(runOps, "; "))
	}
	fmt.Fprintf(w, "  latency p99 first→last window: %s → %s (%.2fx); create p99 %.2fx\n", ms(s.First.P99, s.First.N), ms(s.Last.P99, s.Last.N), s.P99Ratio, s.CreateP99Rat)
	var byOp []string
	for _, op := range append(slices.Clone(opNames), "scan") {
		f, l := s.OpsFirst[op], s.OpsLast[op]
		if f.N > 0 || l.N > 0 {
			byOp = append(byOp, fmt.Sprintf("%s %s → %s", op, ms(f.P99, f.N), ms(l.P99, l.N)))
		}
	}
	if len(byOp) > 0 {
		fmt.Fprintf(w, "  p99 by op, first→last window: %s\n", strings.Join(byOp, ", "))
	}
	fmt.Fprintf(w, "  create→dispatching: worst window p99 %s, max %s\n", ms(s.DispatchP99, 1), ms(s.DispatchMax, 1))
	fmt.Fprintf(w, "  dispatching queue first→last: %s → %s\n", num(s.DispatchFirst), num(s.DispatchLast))
	fmt.Fprintf(w, "  webhooks first→last: pending %s → %s, delivery p99 %s (n %d) → %s (n %d)",
		num(s.PendingFirst), num(s.PendingLast), ms(s.HooksFirst.P99, s.HooksFirst.N), s.HooksFirst.N, ms(s.HooksLast.P99, s.HooksLast.N), s.HooksLast.N)
	if s.PendingSlow != nil {
		fmt.Fprintf(w, "; hanging endpoint pending %d at the end", *s.PendingSlow)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  server rss first→last: %s → %s; goroutines %s → %s; database %s → %s\n",
		mb(s.RSSFirst), mb(s.RSSLast), num(s.GoroutFirst), num(s.GoroutLast), mb(s.DBFirst), mb(s.DBLast))
	fmt.Fprintf(w, "  store commits %s, requests that waited for a rate-limit lease %s\n", perRequest(s.Commits, s.Requests), perRequest(s.LeaseWaits, s.Requests))
	fmt.Fprintf(w, "  429s the server gave during the load: %s", num(s.RateLimited))
	if o := s.OverPlan; o != nil {
		fmt.Fprintf(w, " (the over-plan tenant: %d requests, %d ok, %d refused with 429, %d errors)", o.Requests, o.OK, o.Limited, o.Errors)
	}
	fmt.Fprintln(w)
	if s.IdleSeconds > 0 {
		fmt.Fprintf(w, "  idle %.0f s after the load: server cpu %s of one core\n", s.IdleSeconds, pct(s.IdleCPU))
	}
	if s.Log != nil {
		levels := make([]string, 0, len(s.Log.Levels))
		for l, n := range s.Log.Levels {
			levels = append(levels, fmt.Sprintf("%s %d", l, n))
		}
		sort.Strings(levels)
		fmt.Fprintf(w, "  server log lines: %s\n", strings.Join(levels, ", "))
		for _, pr := range s.Log.Problems[:min(len(s.Log.Problems), 8)] {
			fmt.Fprintf(w, "    %d× %s %q, e.g. %s\n", pr.Count, pr.Level, pr.Message, pr.Example)
		}
	}
}

func ms(d time.Duration, n int) string {
	if n == 0 {
		return "n/a"
	}
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// perRequest is n and n per request, e.g. "1234 (0.41/req)".
func perRequest(n *int, requests int) string {
	if n == nil {
		return "n/a"
	}
	if requests == 0 {
		return fmt.Sprint(*n)
	}
	return fmt.Sprintf("%d (%.2f/req)", *n, float64(*n)/float64(requests))
}

func secs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

func clockTime(s float64) string {
	t := int(s + 0.5)
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

func num(p *int) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprint(*p)
}

func mb(p *int64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(*p)/(1<<20))
}

func pct(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", *p)
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func statusCounts(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "transport error"
		}
		parts[i] = fmt.Sprintf("%s ×%d", name, m[k])
	}
	return strings.Join(parts, ", ")
}
