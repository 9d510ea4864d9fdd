package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/internal/pgtest"
)

// shareStarterLimit sends 150 requests of key, a starter tenant that has
// made none, alternating between two instances over one store: together
// they admit at most the plan's 60, and (the leases each takes) at least
// 90 % of it.
func shareStarterLimit(t *testing.T, a, b *instance, key string) {
	t.Helper()
	ok := 0
	for i := range 150 {
		switch code := []*instance{a, b}[i%2].call(t, key, http.MethodGet, "/incidents?limit=1", "", nil); code {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("request %d: %d", i, code)
		}
	}
	if ok > 60 || ok < 54 {
		t.Fatalf("%d of 150 requests alternating between two instances passed, want 54 to 60 (starter: 60 a minute)", ok)
	}
	t.Logf("%d of 150 alternating requests admitted", ok)
}

// Reads do not write: 300 gets at the server's defaults (rate limits on,
// the enterprise plan) cost at most 15 store commits — the leases of
// budget, the sweep that ends them and the key-use flush — where a write
// per request made 300.
func TestReadsDoNotCommit(t *testing.T) {
	onEachSharedStore(t, readsDoNotCommit)
}

func readsDoNotCommit(t *testing.T, db string) {
	in := startInstance(t, db, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)
	var created struct {
		Incident struct {
			ID string `json:"incident_id"`
		}
	}
	if code := in.call(t, instancesKey, http.MethodPost, "/incidents", sos, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	commits := sqliteCommits(t, in)
	if url, ok := strings.CutPrefix(db, "SETY_DATABASE_URL="); ok {
		commits = postgresCommits(t, url)
	}
	before := commits()
	for i := range 300 {
		if code := in.call(t, instancesKey, http.MethodGet, "/incidents/"+created.Incident.ID, "", nil); code != http.StatusOK {
			t.Fatalf("get %d: %d", i, code)
		}
	}
	n := commits() - before
	t.Logf("300 gets: %d commits", n)
	if n > 15 {
		t.Fatalf("300 gets made %d store commits, want at most 15", n)
	}
}

// sqliteCommits reads the server's count of committed write batches from
// /metrics (sety_store_commit_seconds_count).
func sqliteCommits(t *testing.T, in *instance) func() int {
	return func() int {
		t.Helper()
		resp, err := http.Get(strings.TrimSuffix(in.base, "/v1/external") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), "sety_store_commit_seconds_count "); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatal("/metrics has no sety_store_commit_seconds_count")
		return 0
	}
}

// postgresCommits counts the transactions that wrote: PostgreSQL gives a
// transaction an id when it first writes (or locks a row), and the next id
// to give out is the current snapshot's xmax; reading it takes none. The
// count covers the whole cluster, which is this test binary's own unless
// the tests share a server (pgtest.EnvURL): then the test is skipped.
func postgresCommits(t *testing.T, url string) func() int {
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skipf("counting PostgreSQL's transactions needs a cluster of the test's own, and %s names a shared server", pgtest.EnvURL)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return func() int {
		t.Helper()
		var next int64
		if err := conn.QueryRow(context.Background(), `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&next); err != nil {
			t.Fatal(err)
		}
		return int(next)
	}
}
