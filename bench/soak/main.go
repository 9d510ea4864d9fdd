// Command soak puts the example server under sustained, mixed, open-loop
// load for a chosen time and reports what changes from window to window:
// throughput, errors, latency, the create→dispatching delay, the dispatch
// queue, pending webhook deliveries and their latency, and the server's
// memory, CPU and goroutines. After the load it can watch the idle server.
//
//	go run ./bench/soak -duration 10m -rate 250 -clients 16 -window 30s
//	go run ./bench/soak -duration 3m -idle 30s -hanging-endpoint -json > soak.jsonl
//	go run ./bench/soak -url http://127.0.0.1:8080 -key sety_live_... -pid 12345
//
// By default it builds ./examples/server and starts it on a temp SQLite
// file with the demo responder pool (SETY_DEMO=1), rate limits off, private
// webhooks allowed and fixed keys; SETY_* variables of the environment and
// -env KEY=VALUE pass through to it. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration, window, idle, sampleDelay time.Duration
	rate                                float64
	clients, samples, pid               int
	mix                                 string
	advance                             float64
	url, key                            string
	env                                 []string
	hangingEndpoint, json, keep         bool
	seed                                uint64
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 3*time.Minute, "how long to send load")
	fs.Float64Var(&o.rate, "rate", 250, "requests per second, open loop, spread over the clients")
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients (connections)")
	fs.DurationVar(&o.window, "window", 30*time.Second, "reporting window")
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
	if o.url == "" {
		srv, err = startServer(ctx, o.key, o.env, progress)
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
	st, err := setUp(ctx, a, win, o.hangingEndpoint, progress)
	if err != nil {
		return fail(err)
	}
	defer st.tearDown(a, o.url != "")
	if !st.console {
		fmt.Fprintln(progress, "warning: the operations console is not mounted (run the server with SETY_DEMO=1 or SETY_CONSOLE=1): no resolves, responders never free up")
		m = m.without("resolve")
	}
	fmt.Fprintf(progress, "target %s, %g req/s over %d clients for %s, windows of %s, mix %s; live pool %d responders (%d available)\n",
		target, o.rate, o.clients, o.duration, o.window, m, st.responders, st.available)

	active := newPool()
	smp := &sampler{api: a, win: win, active: active, delay: o.sampleDelay, perWindow: o.samples}
	wl := &workload{api: a, win: win, mix: m, rate: o.rate, clients: o.clients, seed: o.seed, codes: st.codes,
		sampler: smp, active: active, advance: o.advance}
	mon := &monitor{api: a, proc: proc, endpoint: st.endpoint, slow: st.slowEndpoint, hanging: st.hanging}
	out := printer{w: os.Stdout, json: o.json}

	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	go smp.run(sctx)

	var reports []report
	start := time.Now()
	mon.begin()
	win.take() // set-up traffic is not part of the first window
	smp.nextWindow()
	loadDone := make(chan struct{})
	go func() { wl.run(ctx, o.duration); close(loadDone) }()
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
	out.summary(summarizeRun(reports, log))
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
	responders, available int
	receiver              *receiver
	hanging               *hanging
	endpoint              string
	slowEndpoint          string
	codes                 []accessCode
}

// setUp checks the key and the console, starts the receivers and registers
// their webhook endpoints, and issues the access codes the gates validate.
func setUp(ctx context.Context, a *api, win *window, withHanging bool, progress *os.File) (*setup, error) {
	st := &setup{}
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
	if st.console = status == http.StatusOK; st.console {
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
	if st.endpoint, err = registerEndpoint(ctx, a, st.receiver.url(), "soak receiver"); err != nil {
		st.tearDown(a, true)
		return nil, err
	}
	if withHanging {
		if st.hanging, err = startHanging(); err != nil {
			st.tearDown(a, true)
			return nil, err
		}
		if st.slowEndpoint, err = registerEndpoint(ctx, a, st.hanging.url(), "soak hanging endpoint"); err != nil {
			st.tearDown(a, true)
			return nil, err
		}
	}

	for _, site := range []string{"lekki-gardens", "banana-island-court", "ikoyi-towers", "vgc-estate"} {
		var out struct {
			Code string `json:"code"`
		}
		body := map[string]any{"site": site, "visitor": map[string]string{"name": "Tolu Bakare"},
			"host": map[string]string{"unit": "Block C, Flat 4"}, "purpose": "Delivery"}
		if err := a.call(ctx, http.MethodPost, "/access-codes", body, http.StatusCreated, &out); err != nil {
			st.tearDown(a, true)
			return nil, err
		}
		st.codes = append(st.codes, accessCode{site: site, code: out.Code})
	}
	return st, nil
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
func (st *setup) tearDown(a *api, deleteEndpoints bool) {
	if deleteEndpoints {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, id := range []string{st.endpoint, st.slowEndpoint} {
			if id != "" {
				_, _, _ = a.do(ctx, http.MethodDelete, "/webhooks/"+id, nil)
			}
		}
	}
	if st.receiver != nil {
		st.receiver.close()
	}
	if st.hanging != nil {
		st.hanging.close()
	}
}
