// Command soak puts the example server under sustained, mixed, open-loop
// load for a chosen time and reports what changes from window to window:
// throughput, errors, latency, the create→dispatching delay, the dispatch
// queue, pending webhook deliveries and their latency, and the server's
// memory, CPU and goroutines. After the load it can watch the idle server.
//
//	go run ./bench/soak -duration 10m -rate 250 -clients 16 -window 30s
//	go run ./bench/soak -duration 3m -idle 30s -hanging-endpoint -json > soak.jsonl
//	go run ./bench/soak -url http://127.0.0.1:8080 -key sety_live_... -pid 12345
//	go run ./bench/soak -tenants 200 -rate 150 -duration 5m -postgres
//
// By default it builds ./examples/server and starts it on a temp SQLite
// file with the demo responder pool (SETY_DEMO=1), rate limits off, private
// webhooks allowed and fixed keys; SETY_* variables of the environment and
// -env KEY=VALUE pass through to it. With -tenants N it creates N
// organizations with the server's admin command and spreads the load over
// them with rate limits on, each below its plan. See bench/README.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	duration, window, idle, sampleDelay time.Duration
	maxP99                              time.Duration
	rate                                float64
	clients, samples, pid               int
	mix                                 string
	advance                             float64
	url, key                            string
	env                                 []string
	hangingEndpoint, json, keep         bool
	seed                                uint64

	tenants, responders int     // organizations made for the load, responders each
	plans               string  // how their plans are spread
	planShare           float64 // the most of a plan a tenant's load may take
	overPlan            float64 // req/s of a tenant sent past its plan on purpose
	postgres            bool    // start a throwaway durable PostgreSQL cluster for the server
	serverBin           string  // run this server binary instead of building ./examples/server
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 3*time.Minute, "how long to send load")
	fs.Float64Var(&o.rate, "rate", 250, "requests per second, open loop, spread over the clients")
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients (connections)")
	fs.DurationVar(&o.window, "window", 30*time.Second, "reporting window")
	fs.DurationVar(&o.maxP99, "max-p99", 50*time.Millisecond, "the summary says the rate was sustained when the run had no error, missed nothing and its p99 stayed below this")
	fs.DurationVar(&o.idle, "idle", 0, "after the load, watch the idle server this long (its CPU above all)")
	fs.StringVar(&o.mix, "mix", defaultMix, "operations and their weights: "+strings.Join(opNames, ", "))
	fs.Float64Var(&o.advance, "advance", 0.2, "share of resolve operations that first report on_scene")
	fs.IntVar(&o.samples, "samples", 60, "incidents per window read back for the create→dispatching delay")
	fs.DurationVar(&o.sampleDelay, "sample-delay", 3*time.Second, "how long after its creation a sampled incident is read")
	fs.BoolVar(&o.hangingEndpoint, "hanging-endpoint", false, "also register a webhook endpoint that accepts connections and never answers")
	fs.StringVar(&o.url, "url", "", "target this running server (e.g. http://127.0.0.1:8080) instead of starting one; needs -key")
	fs.StringVar(&o.key, "key", "", "live API key (with -url; without it, the bootstrap live key of the server started)")
	fs.IntVar(&o.pid, "pid", 0, "with -url: the server's process id, for its memory and CPU")
	fs.Func("env", "KEY=VALUE for the server started (repeatable; after the environment's SETY_* variables)", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.env = append(o.env, s)
		return nil
	})
	fs.BoolVar(&o.json, "json", false, "print JSON lines (one per window, then a summary) instead of text")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir of the server started (database and log)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the workload's random choices")
	fs.IntVar(&o.tenants, "tenants", 0, "create this many organizations (server admin command orgs create) and spread the load over them, rate limits on; 0: the bootstrap organization alone, rate limits off")
	fs.StringVar(&o.plans, "plans", "starter=1,growth=1,enterprise=1", "with -tenants: how the organizations' plans are spread, plan=weight,...")
	fs.Float64Var(&o.planShare, "plan-share", 0.6, "with -tenants: refuse a -rate that would send a tenant more than this share of its plan's requests a minute")
	fs.IntVar(&o.responders, "responders", 12, "with -tenants: responders an enterprise organization puts on duty around Lagos; other plans in proportion to their limits, at least two")
	fs.Float64Var(&o.overPlan, "over-plan", 0, "with -tenants: also send this many req/s for one more organization, on starter, past its plan: its 429s are counted apart")
	fs.StringVar(&o.serverBin, "server-bin", "", "run this build of the example server instead of building ./examples/server (to compare revisions; -tenants uses its orgs create)")
	fs.BoolVar(&o.postgres, "postgres", false, "start a throwaway PostgreSQL cluster (durable settings) and run the server on it")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.duration <= 0 || o.window <= 0 || o.idle < 0:
		return o, errors.New("-duration and -window must be positive, -idle not negative")
	case !(o.rate > 0) || o.clients < 1:
		return o, errors.New("-rate must be above 0 and -clients at least 1")
	case o.url != "" && o.key == "":
		return o, errors.New("-url needs -key, a live API key")
	case o.url == "" && o.pid != 0:
		return o, errors.New("-pid is for -url; the soak knows the server it starts")
	case o.advance < 0 || o.advance > 1:
		return o, errors.New("-advance must be between 0 and 1")
	case o.tenants < 0 || o.responders < 1:
		return o, errors.New("-tenants must not be negative, -responders at least 1")
	case o.tenants > 0 && o.url != "":
		return o, errors.New("-tenants creates organizations with the admin command of the server the soak starts: not with -url")
	case (o.postgres || o.serverBin != "") && o.url != "":
		return o, errors.New("-postgres and -server-bin are for the server the soak starts, not with -url")
	case o.postgres && o.url != "":
		return o, errors.New("-postgres is for the server the soak starts, not with -url")
	case !(o.planShare > 0 && o.planShare <= 1):
		return o, errors.New("-plan-share must be above 0 and at most 1")
	case o.overPlan < 0 || o.overPlan > 0 && o.tenants == 0:
		return o, errors.New("-over-plan needs -tenants and must not be negative")
	}
	if o.tenants > 0 {
		if _, err := parsePlans(o.plans, o.tenants); err != nil {
			return o, err
		}
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	m, err := parseMix(o.mix)
	if err != nil {
		return err
	}
	progress := os.Stderr
	var srv *server
	target, key := o.url, o.key
	var proc *procStats
	if o.pid != 0 {
		proc = &procStats{pid: o.pid}
	}
	env := o.env
	if o.postgres {
		fmt.Fprintln(progress, "starting a PostgreSQL cluster")
		url, stopPostgres, err := startPostgres()
		if err != nil {
			return err
		}
		defer func() {
			if err := stopPostgres(); err != nil {
				fmt.Fprintln(progress, "soak:", err)
			}
		}()
		env = append(slices.Clone(env), "SETY_DATABASE_URL="+url)
	}
	var dbSize func(context.Context) (int64, error)
	if o.url == "" {
		srv, err = startServer(ctx, o.serverBin, o.key, env, o.tenants > 0, progress)
		if err != nil {
			return err
		}
		defer func() {
			srv.stop()
			if o.keep {
				fmt.Fprintln(progress, "kept", srv.dir)
			} else {
				srv.remove()
			}
		}()
		target, key, proc = srv.url, srv.liveKey, &procStats{pid: srv.pid()}
		dbSize = databaseSize(storageOf(srv.env))
	}
	a := newAPI(target, key, o.clients+4)
	fail := func(err error) error {
		if srv != nil {
			return fmt.Errorf("%w\n--- server output, last lines (%s) ---\n%s", err, srv.logPath, srv.tail(40))
		}
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = a.health(hctx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("server not healthy: %w", err))
	}

	win := newWindow()
	st, err := setUp(ctx, a, srv, o, m, win, progress)
	if err != nil {
		return fail(err)
	}
	defer st.tearDown(o.url != "")
	if !st.console {
		fmt.Fprintln(progress, "warning: the operations console is not mounted (run the server with SETY_DEMO=1 or SETY_CONSOLE=1): no resolves, responders never free up")
		m = m.without("resolve")
	}
	fmt.Fprintf(progress, "target %s, %g req/s over %d clients for %s, windows of %s, mix %s; %s\n",
		target, o.rate, o.clients, o.duration, o.window, m, st.describe())

	smp := &sampler{win: win, delay: o.sampleDelay, perWindow: o.samples}
	wl := &workload{win: win, mix: m, rate: o.rate, clients: o.clients, seed: o.seed, tenants: st.tenants,
		sampler: smp, advance: o.advance}
	mon := &monitor{api: a, proc: proc, byMetrics: o.tenants > 0, dbSize: dbSize,
		endpointOf: st.tenants[0], slow: st.slowEndpoint, hanging: st.hanging}
	out := printer{w: os.Stdout, json: o.json}

	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	go smp.run(sctx)

	var reports []report
	start := time.Now()
	mon.begin(ctx)
	win.take() // set-up traffic is not part of the first window
	smp.nextWindow()
	loadDone := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		if st.over != nil {
			wg.Go(func() { sendOverPlan(ctx, st.over, o.duration, win) })
		}
		wl.run(ctx, o.duration)
		wg.Wait()
		close(loadDone)
	}()
	reports = windows(ctx, "load", start, start, o.duration, o.window, o.rate, loadDone, win, smp, mon, out, reports)
	stopSampler()
	if o.idle > 0 && ctx.Err() == nil {
		idleStart := time.Now()
		reports = windows(ctx, "idle", start, idleStart, o.idle, min(o.window, o.idle), 0, nil, win, smp, mon, out, reports)
	}

	var log *logSummary
	if srv != nil {
		srv.stop()
		if ls, err := summarizeLog(srv.logPath); err == nil {
			log = &ls
		}
		if !srv.alive() && srv.waitErr != nil && ctx.Err() == nil {
			fmt.Fprintf(progress, "server exit: %v\n", srv.waitErr)
		}
	}
	out.summary(summarizeRun(reports, log, o.maxP99, mon.rateLimitedAtStart))
	if ctx.Err() != nil {
		fmt.Fprintln(progress, "interrupted: the figures cover the windows reported")
	}
	return nil
}

// windows reports every window of one phase that lasts d from its start
// (offsets are from origin). In the last window it waits for done, when
// given, so that requests in flight count in the phase they belong to.
func windows(ctx context.Context, phase string, origin, start time.Time, d, window time.Duration, target float64,
	done <-chan struct{}, win *window, smp *sampler, mon *monitor, out printer, reports []report) []report {
	end := start.Add(d)
	from := start
	for i := 1; ; i++ {
		to := from.Add(window)
		last := !to.Before(end)
		if last {
			to = end
		}
		select {
		case <-ctx.Done():
			return reports
		case <-time.After(time.Until(to)):
		}
		if last && done != nil {
			<-done
		}
		now := time.Now()
		r := report{Type: "window", Phase: phase, Window: i, From: from.Sub(origin).Seconds(), To: now.Sub(origin).Seconds(), Target: target}
		r.load = win.take()
		r.RPS = float64(r.Requests) / now.Sub(from).Seconds()
		r.Waiting, r.OldestWaiting, r.SampleReads, r.SampleErrors = smp.nextWindow()
		mon.observe(ctx, &r)
		out.window(r)
		reports = append(reports, r)
		if last {
			return reports
		}
		from = now
	}
}

// setup is what the soak registered before the load.
type setup struct {
	console               bool
	responders, available int // of the bootstrap organization, without -tenants
	receiver              *receiver
	hanging               *hanging
	tenants               []*tenant
	slowEndpoint          string // the hanging endpoint, of the first tenant (the busiest)
	over                  *overPlan
}

// setUp checks the key and the console, starts the receivers, and makes the
// tenants: the bootstrap organization's key alone, or -tenants new
// organizations (and one over its plan with -over-plan); each registers a
// webhook endpoint at the receiver and issues the access codes the gates
// validate; new organizations also put responders on duty.
func setUp(ctx context.Context, a *api, srv *server, o options, m mix, win *window, progress *os.File) (_ *setup, err error) {
	st := &setup{}
	defer func() {
		if err != nil {
			st.tearDown(true)
		}
	}()
	if _, err := a.total(ctx, "/incidents?limit=1"); err != nil {
		return nil, fmt.Errorf("the key does not work: %w", err)
	}
	if !strings.HasPrefix(a.key, "sety_live_") {
		fmt.Fprintln(progress, "warning: not a live key: incidents are drills walked by the simulator, never dispatched to the pool")
	}
	status, _, err := a.do(ctx, http.MethodGet, "/responders?limit=1", nil)
	if err != nil {
		return nil, err
	}
	if st.console = status == http.StatusOK; st.console && o.tenants == 0 {
		if st.responders, err = a.total(ctx, "/responders?limit=1"); err != nil {
			return nil, err
		}
		if st.available, err = a.total(ctx, "/responders?status=available&limit=1"); err != nil {
			return nil, err
		}
	}
	if st.receiver, err = startReceiver(win.hook); err != nil {
		return nil, err
	}

	if o.tenants == 0 {
		t := newTenant("bootstrap organization", "", "", a)
		st.tenants = []*tenant{t}
		if t.endpoint, err = registerEndpoint(ctx, a, st.receiver.url(), "soak receiver"); err != nil {
			return nil, err
		}
		if t.codes, err = issueCodes(ctx, a, []string{"lekki-gardens", "banana-island-court", "ikoyi-towers", "vgc-estate"}); err != nil {
			return nil, err
		}
	} else {
		if !st.console {
			return nil, errors.New("-tenants needs the operations console for its responders (SETY_DEMO=1, the default, or SETY_CONSOLE=1)")
		}
		plans, _ := parsePlans(o.plans, o.tenants) // checked with the flags
		fmt.Fprintf(progress, "creating %d organizations (starter %d, growth %d, enterprise %d) with `server orgs create`\n",
			o.tenants, plans["starter"], plans["growth"], plans["enterprise"])
		began := time.Now()
		if st.tenants, err = createOrgs(ctx, srv.bin, srv.env, plans, a.withKey); err != nil {
			return nil, err
		}
		assignShares(st.tenants)
		// The busiest first: the hanging endpoint is the first tenant's.
		slices.SortStableFunc(st.tenants, func(a, b *tenant) int { return cmp.Compare(b.share, a.share) })
		for _, t := range st.tenants {
			t.responders = respondersFor(t.limit, o.responders)
		}
		// A resolve may scan first: up to two requests.
		perOp := float64(m.total+m.weight("resolve")) / float64(m.total)
		if err := checkBudget(st.tenants, o.rate, perOp, o.planShare); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "created them in %s; registering their webhook endpoints, access codes and responders (%d for an enterprise organization)\n",
			time.Since(began).Round(time.Millisecond), o.responders)
		if err := setUpTenants(ctx, st.tenants, st.receiver.url()); err != nil {
			return nil, err
		}
		if o.overPlan > 0 {
			over, err := createOrgs(ctx, srv.bin, srv.env, map[string]int{"starter": 1}, a.withKey)
			if err != nil {
				return nil, err
			}
			over[0].name = "the over-plan tenant"
			st.over = &overPlan{t: over[0], rate: o.overPlan}
		}
	}
	if o.hangingEndpoint {
		if st.hanging, err = startHanging(); err != nil {
			return nil, err
		}
		if st.slowEndpoint, err = registerEndpoint(ctx, st.tenants[0].api, st.hanging.url(), "soak hanging endpoint"); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// describe says who the load goes to, for the progress line.
func (st *setup) describe() string {
	if len(st.tenants) == 1 && st.tenants[0].org == "" {
		return fmt.Sprintf("live pool %d responders (%d available)", st.responders, st.available)
	}
	s := fmt.Sprintf("%d organizations, rate limits on", len(st.tenants))
	if st.over != nil {
		s += fmt.Sprintf(", and %s at %g req/s (%d a minute allowed)", st.over.t.name, st.over.rate, st.over.t.limit)
	}
	return s
}

func registerEndpoint(ctx context.Context, a *api, url, description string) (string, error) {
	var out struct {
		Endpoint struct {
			ID string `json:"endpoint_id"`
		} `json:"endpoint"`
	}
	body := map[string]any{"url": url, "events": []string{"incident.*"}, "description": description}
	if err := a.call(ctx, http.MethodPost, "/webhooks", body, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("register webhook endpoint (a loopback receiver needs SETY_ALLOW_PRIVATE_WEBHOOKS=1): %w", err)
	}
	return out.Endpoint.ID, nil
}

// tearDown stops the receivers; on a server the soak did not start it also
// deletes the endpoints, which would otherwise keep failing there.
func (st *setup) tearDown(deleteEndpoints bool) {
	if deleteEndpoints {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		del := func(t *tenant, id string) {
			if id != "" {
				_, _, _ = t.api.do(ctx, http.MethodDelete, "/webhooks/"+id, nil)
			}
		}
		for _, t := range st.tenants {
			del(t, t.endpoint)
		}
		if len(st.tenants) > 0 {
			del(st.tenants[0], st.slowEndpoint) // the first tenant registered it
		}
	}
	if st.receiver != nil {
		st.receiver.close()
	}
	if st.hanging != nil {
		st.hanging.close()
	}
}
