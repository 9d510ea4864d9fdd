// Package pgtest gives each test a fresh, empty PostgreSQL database.
//
// With SETY_TEST_DATABASE_URL set (a URL whose user may create and drop
// databases), tests get databases on that server, dropped when they end.
// Without it, the first test that asks starts a throwaway cluster for the
// whole test binary: initdb into a temporary directory, a server on a unix
// socket in it (no TCP), fsync off; Main stops it and removes the directory
// when the tests are done. When neither exists, tests that need PostgreSQL
// are skipped with a message that says so.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, nil)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.URL(t) // a new database, gone after the test
//		...
//	}
//
// Main's prepare, if not nil, readies a template database once (an
// adapter applies its migrations there); every database URL returns is a
// copy of it, so each test skips the work. LocaleURL's databases are
// copies of a template made the same way with a locale of the caller's
// (LinguisticLocale: the collation most databases have), once per locale.
//
// A test that restarts PostgreSQL gets a cluster of its own (NewCluster);
// a benchmark that measures commits, a durable one (StartCluster with
// Options.Durable: bench/pgscale, bench/soak -postgres).
//
// initdb refuses to run as root; as root, pgtest runs the cluster as the
// postgres user (runuser), which owns the temporary directory.
package pgtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "SETY_TEST_DATABASE_URL"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	skipMsg string
	created atomic.Int64
	prepare func(ctx context.Context, url string) error
)

// server is where the tests' databases are made: an admin pool and the URL
// new databases are reached by, with the database name left to fill.
type server struct {
	admin    *pgxpool.Pool
	base     *url.URL
	prefix   string // of the databases this process creates
	template string // what CREATE DATABASE copies: the prepared template
	cluster  *Cluster
}

// URL returns the URL of a new, empty database, dropped when tb ends (or,
// on the throwaway cluster, with the cluster). It skips tb when there is
// no PostgreSQL to test against.
func URL(tb testing.TB) string {
	tb.Helper()
	started(tb)
	return newDatabase(tb, srv.template)
}

// started starts the server once, and skips or fails tb when there is
// none to test against.
func started(tb testing.TB) {
	tb.Helper()
	once.Do(start)
	if skipMsg != "" {
		tb.Skip(skipMsg)
	}
	if srvErr != nil {
		tb.Fatalf("pgtest: %v", srvErr)
	}
}

// newDatabase creates a database, a copy of what template names (a
// CREATE DATABASE clause, "" for PostgreSQL's own), dropped when tb ends
// or with the throwaway cluster, and returns its URL.
func newDatabase(tb testing.TB, template string) string {
	tb.Helper()
	name := fmt.Sprintf("%s_%d", srv.prefix, created.Add(1))
	ctx := context.Background()
	if _, err := srv.admin.Exec(ctx, `CREATE DATABASE `+name+template); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	if srv.cluster == nil {
		tb.Cleanup(func() {
			if _, err := srv.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
				tb.Errorf("pgtest: drop database %s: %v", name, err)
			}
		})
	}
	return srv.url(name)
}

// url is the URL of the database name.
func (s *server) url(name string) string {
	u := *s.base
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests and then stops the cluster, if one was started.
// prepare, if not nil, readies the template every test's database copies;
// it must close its connections to it before returning.
func Main(m *testing.M, prep func(ctx context.Context, url string) error) int {
	prepare = prep
	code := m.Run()
	if srv != nil {
		if srv.cluster == nil && srv.template != "" {
			srv.admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+srv.prefix+`_template WITH (FORCE)`)
		}
		if srv.cluster == nil {
			dropTemplates(context.Background())
		}
		srv.admin.Close()
		if srv.cluster != nil {
			if err := srv.cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}
	}
	return code
}

func start() {
	ctx := context.Background()
	raw := os.Getenv(EnvURL)
	var c *Cluster
	if raw == "" {
		if _, err := findInitdb(); err != nil {
			skipMsg = "PostgreSQL tests skipped: no initdb on PATH or in /usr/lib/postgresql/*/bin, and " + EnvURL + " is not set"
			return
		}
		var err error
		if c, err = StartCluster(Options{}); err != nil {
			srvErr = err
			return
		}
		raw = c.url
	}
	base, err := url.Parse(raw)
	if err != nil {
		srvErr = fmt.Errorf("%s: %w", EnvURL, err)
		return
	}
	admin, err := pgxpool.New(ctx, raw)
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		if c != nil {
			c.Stop()
		}
		srvErr = fmt.Errorf("connect to %s: %w", redact(base), err)
		return
	}
	srv = &server{admin: admin, base: base, cluster: c,
		prefix: fmt.Sprintf("sety_test_%d_%d", os.Getpid(), rand.IntN(1_000_000))}
	if prepare == nil {
		return
	}
	// The template, made once. Copying it file by file (PostgreSQL 15's
	// FILE_COPY) beats writing the copy to the WAL for small databases.
	template := srv.prefix + "_template"
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+template); err != nil {
		srvErr = fmt.Errorf("create template: %w", err)
		return
	}
	if err := prepare(ctx, srv.url(template)); err != nil {
		srvErr = fmt.Errorf("prepare template: %w", err)
		return
	}
	srv.template = ` TEMPLATE ` + template
	var version int
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err == nil && version >= 150000 {
		srv.template += ` STRATEGY FILE_COPY`
	}
}

func redact(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

// Cluster is a throwaway PostgreSQL server in a temporary directory,
// reached on a unix socket in it (no TCP), run as the postgres user when
// this process is root (initdb refuses root).
type Cluster struct {
	dir    string // data/, the socket and the log
	pgctl  string
	asUser string // "postgres" when running as root
	opts   string // the server's options (pg_ctl -o)
	url    string // of the postgres database
}

// Options say how to run a cluster.
type Options struct {
	// Durable runs it with fsync, synchronous_commit and full_page_writes
	// on, as a production server: a commit waits for the WAL to reach the
	// disk. Off (tests): none of them, which is fast and loses nothing but
	// to an operating system crash.
	Durable bool
	// Settings are more server settings, "name=value" each.
	Settings []string
	// Locale is the cluster's locale (initdb --locale), which its
	// databases' collation follows: "" is C, where text compares byte by
	// byte; LinguisticLocale is what most databases are created with.
	Locale string
}

func findInitdb() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("initdb not found")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return found[0], nil
}

// version is the major version in a /usr/lib/postgresql/N/bin path.
func version(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// command runs a PostgreSQL program as the cluster's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	if c.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", c.asUser, "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// Bin is the path of the PostgreSQL program name (pgbench, psql...) of the
// cluster's installation.
func (c *Cluster) Bin(name string) string { return filepath.Join(filepath.Dir(c.pgctl), name) }

// StartCluster initdbs a cluster into a new temporary directory and starts
// it. A watchdog stops it and removes the directory once this process is
// gone, however it ends; Stop does it sooner.
func StartCluster(o Options) (*Cluster, error) {
	initdb, err := findInitdb()
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(initdb)
	if err != nil {
		return nil, err
	}
	c := &Cluster{pgctl: filepath.Join(filepath.Dir(real), "pg_ctl")}
	if c.dir, err = os.MkdirTemp("", "sety-pgtest-"); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(c.dir)
			return nil, errors.New("running as root, and initdb refuses root: need a postgres user to run the cluster as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			os.RemoveAll(c.dir)
			return nil, err
		}
		c.asUser = "postgres"
	}
	data := filepath.Join(c.dir, "data")
	locale := cmp.Or(o.Locale, "C")
	args := []string{"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=" + locale}
	if !o.Durable {
		args = append(args, "--no-sync")
	}
	if out, err := c.command(real, args...).CombinedOutput(); err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A unix socket in our own directory and no TCP: the port only names
	// the socket, and no other server can collide with it.
	port := 20000 + rand.IntN(40000)
	opts := []string{"-k", c.dir, "-p", strconv.Itoa(port), "-c", "listen_addresses=", "-c", "max_connections=300"}
	if o.Durable {
		opts = append(opts, "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on")
	} else {
		opts = append(opts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for _, s := range o.Settings {
		opts = append(opts, "-c", s)
	}
	c.opts = strings.Join(opts, " ")
	if err := c.pgCtl("start"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	c.url = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {c.dir}, "port": {strconv.Itoa(port)}, "sslmode": {"disable"}}.Encode()}).String()
	// A process that panics or is killed never reaches Stop: a watchdog
	// stops the cluster and removes its directory once this process is
	// gone.
	watchdog := c.command("sh", "-c", `while [ -d /proc/$0 ]; do sleep 1; done; "$1" -D "$2/data" -m immediate stop >/dev/null 2>&1; rm -rf "$2"`,
		strconv.Itoa(os.Getpid()), c.pgctl, c.dir)
	if err := watchdog.Start(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start the cluster's watchdog: %w", err)
	}
	go func() { _ = watchdog.Wait() }() // it outlives this process, or ends with the cluster
	return c, nil
}

// pgCtl runs pg_ctl action (start, restart) with the cluster's options,
// waiting for the server to be up.
func (c *Cluster) pgCtl(action string, args ...string) error {
	all := append([]string{"-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "-o", c.opts}, args...)
	if out, err := c.command(c.pgctl, append(all, action)...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl %s: %v\n%s\n%s", action, err, out, log)
	}
	return nil
}

// URL is the URL of the database name on the cluster.
func (c *Cluster) URL(name string) string {
	u, _ := url.Parse(c.url)
	u.Path = "/" + name
	return u.String()
}

// CreateDatabase creates the database name.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	admin, err := pgxpool.New(ctx, c.url)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Exec(ctx, `CREATE DATABASE `+name)
	return err
}

// Restart stops the server at once, as a crash would (pg_ctl -m
// immediate: no checkpoint, recovery from the WAL at start), and starts it
// again.
func (c *Cluster) Restart() error { return c.pgCtl("restart", "-m", "immediate") }

// Stop shuts the server down at once (it holds nothing worth keeping) and
// removes its directory.
func (c *Cluster) Stop() error {
	cmd := c.command(c.pgctl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop")
	out, err := cmd.CombinedOutput()
	if rerr := os.RemoveAll(c.dir); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// NewCluster starts a cluster of the test's own (one it may restart), with
// a database named sety, stopped when tb ends, and returns it with that
// database's URL. It skips tb where PostgreSQL is not installed.
func NewCluster(tb testing.TB, o Options) (*Cluster, string) {
	tb.Helper()
	if _, err := findInitdb(); err != nil {
		tb.Skip("PostgreSQL tests skipped: no initdb on PATH or in /usr/lib/postgresql/*/bin")
	}
	c, err := StartCluster(o)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	if err := c.CreateDatabase(context.Background(), "sety"); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return c, c.URL("sety")
}

// PID is the process id of the cluster's server (its postmaster, whose
// children are the backends).
func (c *Cluster) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}
