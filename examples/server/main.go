// Command server runs the Sety v1 HTTP API over a SQLite file, memory, or
// a PostgreSQL database that any number of servers may share.
//
//	go run ./examples/server                 # :8080, ./sety.db
//	go run ./examples/server -memory -addr :9090
//	SETY_DATABASE_URL=postgres://sety@localhost/sety go run ./examples/server
//
// On an empty database it creates an organization on the enterprise plan
// with one live and one test key holding every scope, and prints both once.
// The OpenAPI document is at /openapi.json (and .yaml), its docs at /docs.
// It binds its addresses before it touches storage: a port in use stops it
// before it creates or migrates anything.
//
// The same binary administers the database, beside running servers, on the
// same storage settings (admin.go; -h lists the commands):
//
//	go run ./examples/server orgs create --name "Acme Rides" --plan growth
//	go run ./examples/server keys create --org org_... --env test --scopes incidents:read --name ci
//	go run ./examples/server backup sety-backup.db
//
// Exit status: 0, 1 when it fails, 2 for bad flags or arguments.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/examples/server/console"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/gcheadroom"
	"github.com/sety-io/sety/ports"
)

func main() {
	// Request ids (X-Request-Id) are random UUIDs: drawn from a pool the
	// uuid package refills from crypto/rand 256 bytes at a time instead of
	// with a read of the system's random source per request. They only
	// name a request in the logs (nothing secret is made from them), and
	// this is set before any request is served, as the package requires.
	uuid.EnableRandPool()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The collector gets room while the live heap is small, unless GOGC
	// or GOMEMLIMIT says otherwise (internal/gcheadroom says why). Here,
	// not in run: it is the process's, and tests run many servers in one.
	gcheadroom.Start(ctx, os.Getenv)
	if code := exitCode(os.Stderr, dispatch(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)); code != 0 {
		os.Exit(code)
	}
}

// run serves until ctx ends, then shuts down gracefully. ready, if not nil,
// receives the listening address once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logs := newLogWriter(stderr) // written in batches (logwriter.go)
	defer logs.Close()
	log := newLogger(logs, cfg.logFormat)

	// Bind first: a server that cannot serve touches no storage.
	lns, err := bindListeners(cfg)
	if err != nil {
		return err
	}
	defer lns.close()

	stores, closeStores, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStores()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := []sety.Option{
		sety.WithLogger(log),
		sety.WithHealthAlias("/health"), // the server is only Sety: probes use /health
		sety.WithMetrics(registry),
		sety.WithSimulation(incident.Simulation{Speed: cfg.simulateSpeed}),
		sety.WithWebhooks(cfg.webhookConfig()),
		sety.WithKeyCacheTTL(cfg.keyCacheTTL),
		sety.WithRetention(cfg.retention),
	}
	if !cfg.rateLimits {
		opts = append(opts, sety.WithRateLimiter(nil))
	}
	if cfg.codeKey != "" {
		opts = append(opts, sety.WithAccessCodeKey([]byte(cfg.codeKey)))
	}
	if keys := cfg.webhookSecretKeys(); len(keys) > 0 {
		opts = append(opts, sety.WithWebhookSecretKeys(keys...))
	}
	if cfg.console || cfg.demo {
		opts = append(opts, sety.WithOperationsConsole())
	}
	s, err := sety.New(stores, opts...)
	if err != nil {
		return err
	}
	if err := exclusively(ctx, stores, "bootstrap", func(ctx context.Context) error { return bootstrap(ctx, s, cfg, stdout, log) }); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	// The background work (dispatch, simulator, SLA clocks, webhooks) runs
	// until the server has shut down, not until the signal: requests in
	// flight during the graceful shutdown still get their effects.
	workCtx, stopWork := context.WithCancel(context.Background())
	workDone := make(chan error, 1)
	go func() { workDone <- s.Run(workCtx) }()
	defer func() { stopWork(); <-workDone }()
	select {
	case <-s.Ready():
	case err := <-workDone:
		workDone <- nil // for the deferred wait
		return err
	case <-ctx.Done():
		return nil
	}
	if cfg.demo {
		if err := loadDemo(ctx, s, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	m := mounts{console: console.Config{Tiles: cfg.consoleTiles}, metrics: registry}
	if lns.metrics != nil {
		m.metrics = nil // on its own listener only
		defer serveAside(lns.metrics, metricsOnly(registry, log), log, "metrics", "/metrics")()
	}
	if lns.profiles != nil {
		defer serveAside(lns.profiles, profiles(), log, "pprof profiles", "/debug/pprof/")()
	}
	handler, _ := newServerHandler(s, log, m)

	ln := lns.api
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for every open request, and an event stream never
	// ends by itself: end the streams as the shutdown begins.
	srv.RegisterOnShutdown(s.CloseStreams)
	log.Info("serving Sety API", "addr", ln.Addr().String(), "base_path", s.BasePath(), "docs", "/docs", "storage", storageName(cfg))
	if ready != nil {
		logs.Flush() // a caller that waits for ready reads the start's lines
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func openStores(ctx context.Context, cfg config) (sety.Stores, func(), error) {
	if cfg.memory {
		m := memory.New()
		return m, func() {}, nil
	}
	if cfg.databaseURL != "" {
		db, err := postgres.Open(ctx, cfg.databaseURL)
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	}
	db, err := sqlite.Open(ctx, cfg.dbPath, nil)
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// exclusively runs fn in one server at a time among those sharing stores,
// when the stores can say so (PostgreSQL): servers started together on an
// empty database bootstrap it once. Elsewhere it just runs fn.
func exclusively(ctx context.Context, stores sety.Stores, name string, fn func(context.Context) error) error {
	if ex, ok := stores.(ports.Exclusive); ok {
		return ex.Exclusive(ctx, name, fn)
	}
	return fn(ctx)
}

func storageName(cfg config) string {
	if cfg.memory {
		return "memory"
	}
	if cfg.databaseURL != "" {
		if u, err := url.Parse(cfg.databaseURL); err == nil {
			return u.Redacted()
		}
		return "postgres"
	}
	return "sqlite:" + cfg.dbPath
}
