package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/webhook"
)

// config is every setting of the server. Each is a flag with a SETY_*
// environment twin; an explicit flag wins over the environment.
type config struct {
	storage
	addr          string
	bootstrapLive string
	bootstrapTest string
	logFormat     string
	simulateSpeed float64
	demo          bool
	console       bool
	privateHooks  bool
	codeKey       string
	secretKeys    string
	plan          string
	rateLimits    bool
	consoleTiles  string
	pprofAddr     string
	metricsAddr   string
	keyCacheTTL   time.Duration
	retention     time.Duration
}

// parseConfig reads args, falling back to getenv for flags not given.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sety-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", ":8080", "listen address (SETY_ADDR)")
	c.storage.register(fs)
	fs.StringVar(&c.bootstrapLive, "bootstrap-live-key", "", "on an empty database, use this live key instead of a random one (SETY_BOOTSTRAP_LIVE_KEY)")
	fs.StringVar(&c.bootstrapTest, "bootstrap-test-key", "", "on an empty database, use this test key instead of a random one (SETY_BOOTSTRAP_TEST_KEY)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (SETY_LOG_FORMAT)")
	fs.Float64Var(&c.simulateSpeed, "simulate-speed", 1, "speed of the sandbox simulator: 100 walks a drill in 0.6 s (SETY_SIMULATE_SPEED)")
	fs.BoolVar(&c.demo, "demo", false, "load a responder pool around Lagos and mount the operations console (SETY_DEMO=1)")
	fs.BoolVar(&c.privateHooks, "allow-private-webhooks", false, "let webhook endpoints use http:// and loopback or private addresses, for local receivers (SETY_ALLOW_PRIVATE_WEBHOOKS=1)")
	fs.StringVar(&c.codeKey, "access-code-key", "", "secret that access codes are hashed with, at least 32 characters; default: a random key kept in the database (SETY_ACCESS_CODE_KEY)")
	fs.StringVar(&c.secretKeys, "webhook-secret-key", "", "secret that webhook signing secrets are encrypted with at rest, at least 32 characters; while rotating, a comma-separated list: the first encrypts, every one decrypts; default: a random key kept in the database (SETY_WEBHOOK_SECRET_KEY)")
	fs.StringVar(&c.plan, "plan", "enterprise", "plan of the organization created on an empty database: starter, growth or enterprise (SETY_PLAN)")
	fs.BoolVar(&c.rateLimits, "rate-limits", true, "enforce the plans' requests per minute; false for benchmarks (SETY_RATE_LIMITS)")
	fs.BoolVar(&c.console, "console", false, "mount the operations console: responders and status reports (SETY_CONSOLE=1)")
	fs.StringVar(&c.consoleTiles, "console-tiles", "", "map tile URL template of the web console at /console, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; default none: a drawn graticule, for offline use (SETY_CONSOLE_TILES)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this address (e.g. 127.0.0.1:9090) instead of the API's, so the metrics can stay off the public port; default: the API's address (SETY_METRICS_ADDR)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060), apart from the API; default off (SETY_PPROF_ADDR)")
	fs.DurationVar(&c.keyCacheTTL, "key-cache-ttl", auth.DefaultKeyCacheTTL, "how long a key that authenticated is trusted without a database read; a key revoked through another server keeps working on this one for at most this long; negative: no cache (SETY_KEY_CACHE_TTL)")
	fs.DurationVar(&c.retention, "retention", webhook.DefaultRetention, "how long finished webhook deliveries and the published events they carried are kept, e.g. 720h; pending deliveries are kept whatever their age; 0: forever (SETY_RETENTION)")
	fs.Usage = func() { serveUsage(fs) }
	if err := fs.Parse(args); err != nil {
		return c, usageError{err}
	}
	if fs.NArg() > 0 {
		return c, usageErrorf("unexpected argument %q (the commands are %s)", fs.Arg(0), commandNames())
	}
	if err := applyEnv(fs, getenv); err != nil {
		return c, err
	}
	if err := c.storage.check(); err != nil {
		return c, err
	}
	if !auth.Plan(c.plan).Valid() {
		return c, usageErrorf("-plan must be starter, growth or enterprise, not %q", c.plan)
	}
	if c.codeKey != "" && len(c.codeKey) < 32 {
		return c, usageErrorf("-access-code-key must be at least 32 characters")
	}
	for _, k := range c.webhookSecretKeys() {
		if len(k) < 32 {
			return c, usageErrorf("-webhook-secret-key: every key must be at least 32 characters")
		}
	}
	if !(c.simulateSpeed > 0 && c.simulateSpeed <= 10000) {
		return c, usageErrorf("-simulate-speed must be above 0 and at most 10000, not %v", c.simulateSpeed)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, usageErrorf("-log-format must be text or json, not %q", c.logFormat)
	}
	return c, nil
}

// envName is the environment twin of a flag: SETY_ and its name in
// capitals, dashes as underscores.
func envName(flag string) string {
	return "SETY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag of fs not given in the arguments from its
// environment twin, when that is set; names, when given, limits it to
// those flags (an admin command's own flags have no twin).
func applyEnv(fs *flag.FlagSet, getenv func(string) string, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		v := getenv(env)
		if set[f.Name] || v == "" || len(names) > 0 && !slices.Contains(names, f.Name) {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", env, v, err))
		}
	})
	if len(errs) > 0 {
		return usageErrorf("bad environment: %s", strings.Join(errs, "; "))
	}
	return nil
}

// storage is where the server keeps its data: the settings the server and
// the admin commands share.
type storage struct {
	dbPath      string
	databaseURL string
	memory      bool
}

// storageFlags are the names of storage's flags.
var storageFlags = []string{"db", "database-url", "memory"}

func (s *storage) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dbPath, "db", "sety.db", "SQLite database file (SETY_DB)")
	fs.StringVar(&s.databaseURL, "database-url", "", "PostgreSQL URL, postgres://user:password@host/db: store everything there instead of SQLite; any number of servers may share it (SETY_DATABASE_URL)")
	fs.BoolVar(&s.memory, "memory", false, "keep everything in memory instead of SQLite (SETY_MEMORY=1)")
}

func (s storage) check() error {
	if s.databaseURL == "" {
		return nil
	}
	if !strings.HasPrefix(s.databaseURL, "postgres://") && !strings.HasPrefix(s.databaseURL, "postgresql://") {
		return usageErrorf("-database-url must be a postgres:// or postgresql:// URL")
	}
	if s.memory {
		return usageErrorf("-memory and -database-url exclude each other")
	}
	return nil
}

// webhookSecretKeys splits -webhook-secret-key into its keys, first the
// one that encrypts.
func (c config) webhookSecretKeys() [][]byte {
	var keys [][]byte
	for _, k := range strings.Split(c.secretKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, []byte(k))
		}
	}
	return keys
}

// webhookConfig is what -allow-private-webhooks sets: private and http://
// targets, or, while it is off, a refusal of them that names the flag.
func (c config) webhookConfig() webhook.Config {
	if c.privateHooks {
		return webhook.Config{AllowPrivate: true, AllowInsecure: true}
	}
	return webhook.Config{PrivateHint: "for a local receiver, start the server with -allow-private-webhooks"}
}
