package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// dist is a distribution of durations: its count and the percentiles a
// window reports. The zero dist has N 0 and reads as "n/a".
type dist struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// summarize sorts ds in place and returns their distribution.
func summarize(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	slices.Sort(ds)
	return dist{N: len(ds), P50: percentile(ds, 0.50), P90: percentile(ds, 0.90), P99: percentile(ds, 0.99), Max: ds[len(ds)-1]}
}

// percentile is the nearest-rank percentile q (0 < q ≤ 1) of sorted: the
// smallest value with at least q of the values at or below it. It is zero
// for no values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// outcome is how a request of the workload ended.
type outcome int

const (
	succeeded outcome = iota // the expected status
	raced                    // 409 where the workload can race the engine (resolve, cancel): counted apart
	failed                   // transport error, 5xx or any other unexpected status
	limited                  // 429 of the tenant that exceeds its plan on purpose (-over-plan): counted apart
)

// opStats is one operation's share of a window.
type opStats struct {
	lat       []time.Duration
	ok        int
	conflicts int
	errors    int
	limited   int
}

// window collects what happened in one reporting window. It is safe for
// concurrent use; take reads it out and starts afresh.
type window struct {
	mu       sync.Mutex
	ops      map[string]*opStats
	lag      []time.Duration // start of a request minus its scheduled time
	missed   int             // scheduled requests dropped because every client was busy and the backlog full
	statuses map[int]int     // unexpected statuses (0: transport error)
	dispatch []time.Duration // create→dispatching delays observed in the window
	hooks    []time.Duration // webhook arrival minus event created_at, healthy endpoint
	dupHooks int             // deliveries of an event already received
}

func newWindow() *window {
	return &window{ops: map[string]*opStats{}, statuses: map[int]int{}}
}

// request records one workload request: op, its latency, its outcome, the
// status (0 for a transport error) and how late it started.
func (w *window) request(op string, lat time.Duration, o outcome, status int, lag time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.ops[op]
	if s == nil {
		s = &opStats{}
		w.ops[op] = s
	}
	s.lat = append(s.lat, lat)
	switch o {
	case succeeded:
		s.ok++
	case raced:
		s.conflicts++
	case limited:
		s.limited++
	default:
		s.errors++
		if op != overPlanOp {
			w.statuses[status]++
		}
	}
	if op != overPlanOp {
		w.lag = append(w.lag, lag)
	}
}

func (w *window) miss() {
	w.mu.Lock()
	w.missed++
	w.mu.Unlock()
}

func (w *window) dispatched(d time.Duration) {
	w.mu.Lock()
	w.dispatch = append(w.dispatch, d)
	w.mu.Unlock()
}

func (w *window) hook(d time.Duration, duplicate bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if duplicate {
		w.dupHooks++
		return
	}
	w.hooks = append(w.hooks, d)
}

// load is the workload part of a window's report.
type load struct {
	Requests  int             `json:"requests"`
	Errors    int             `json:"errors"`
	Conflicts int             `json:"conflicts"`
	Missed    int             `json:"missed"`
	Statuses  map[int]int     `json:"error_statuses,omitempty"`
	All       dist            `json:"latency"`
	Lag       dist            `json:"schedule_lag"`
	Ops       map[string]dist `json:"ops"`
	OpErrors  map[string]int  `json:"op_errors,omitempty"`
	OpRaced   map[string]int  `json:"op_conflicts,omitempty"`
	Dispatch  dist            `json:"create_to_dispatching"`
	Hooks     dist            `json:"webhook_latency"`
	DupHooks  int             `json:"webhook_duplicates"`
	OverPlan  *overPlanLoad   `json:"over_plan,omitempty"`

	lats map[string][]time.Duration // every latency by op, for the figures over the whole run
}

// overPlanLoad is the window's share of the tenant that exceeds its plan
// on purpose: not part of the workload's requests, errors or latency.
type overPlanLoad struct {
	Requests int  `json:"requests"`
	Limited  int  `json:"limited"` // 429s, as wanted
	OK       int  `json:"ok"`
	Errors   int  `json:"errors"` // anything else
	Latency  dist `json:"latency"`
}

// take returns the window's figures and empties it for the next window.
func (w *window) take() load {
	w.mu.Lock()
	ops, lag, missed, statuses, disp, hooks, dups := w.ops, w.lag, w.missed, w.statuses, w.dispatch, w.hooks, w.dupHooks
	w.ops, w.lag, w.missed, w.statuses, w.dispatch, w.hooks, w.dupHooks = map[string]*opStats{}, nil, 0, map[int]int{}, nil, nil, 0
	w.mu.Unlock()

	l := load{Missed: missed, Statuses: statuses, Ops: map[string]dist{}, OpErrors: map[string]int{}, OpRaced: map[string]int{}, DupHooks: dups,
		lats: map[string][]time.Duration{}}
	var all []time.Duration
	for name, s := range ops {
		if name == overPlanOp {
			l.OverPlan = &overPlanLoad{Requests: len(s.lat), Limited: s.limited, OK: s.ok, Errors: s.errors, Latency: summarize(s.lat)}
			continue
		}
		l.lats[name] = s.lat
		l.Requests += len(s.lat)
		l.Errors += s.errors
		l.Conflicts += s.conflicts
		if s.errors > 0 {
			l.OpErrors[name] = s.errors
		}
		if s.conflicts > 0 {
			l.OpRaced[name] = s.conflicts
		}
		all = append(all, s.lat...)
		l.Ops[name] = summarize(s.lat)
	}
	l.All = summarize(all)
	l.Lag = summarize(lag)
	l.Dispatch = summarize(disp)
	l.Hooks = summarize(hooks)
	return l
}
