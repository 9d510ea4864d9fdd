package sety_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkHTTP measures create and get through the whole HTTP stack (a real
// loopback connection, logging middleware, huma, auth, the service) on
// SQLite, with both synchronous modes, and on PostgreSQL (the test
// cluster of internal/pgtest, or SETY_TEST_DATABASE_URL's server). Each
// operation runs on every store in turn, so their figures come from one
// run, side by side:
//
//	go test . -run '^$' -bench HTTP -benchtime 2000x
func BenchmarkHTTP(b *testing.B) {
	type store struct {
		name string
		h    *harness
		send func(b *testing.B, method, path string, body []byte, want int) []byte
		get  string // the path of an incident to get
	}
	stores := []*store{
		{name: "sqlite-sync=FULL", h: newSQLiteHarnessSync(b, "FULL")},
		{name: "sqlite-sync=NORMAL", h: newSQLiteHarnessSync(b, "NORMAL")},
		{name: "postgres", h: newPostgresHarness(b)},
	}
	createBody := []byte(`{"category":"vehicle","severity":"critical","subject":{"name":"Chidinma Eze","phone":"+2348031234567"},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street"}}`)
	for _, st := range stores {
		send := serveLoopback(b, st.h)
		st.send = func(b *testing.B, method, path string, body []byte, want int) []byte {
			status, out := send(b, method, path, string(body))
			if status != want {
				b.Fatalf("%s %s: %d %s", method, path, status, out)
			}
			return out
		}
		var created struct {
			Incident struct {
				ID string `json:"incident_id"`
			}
		}
		_ = json.Unmarshal(st.send(b, http.MethodPost, "/incidents", createBody, http.StatusCreated), &created)
		st.get = "/incidents/" + created.Incident.ID
	}

	var n atomic.Int64
	for _, op := range []struct {
		name string
		run  func(b *testing.B, st *store)
	}{
		{"create", func(b *testing.B, st *store) {
			for b.Loop() {
				st.send(b, http.MethodPost, "/incidents", createBody, http.StatusCreated)
			}
		}},
		{"create-parallel", func(b *testing.B, st *store) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					st.send(b, http.MethodPost, "/incidents", createBody, http.StatusCreated)
				}
			})
		}},
		// 32 concurrent clients, as the side-by-side benchmark drives the
		// server: the SQLite writer commits their creates in groups.
		{"create-32-clients", func(b *testing.B, st *store) {
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					st.send(b, http.MethodPost, "/incidents", createBody, http.StatusCreated)
				}
			})
		}},
		{"get", func(b *testing.B, st *store) {
			for b.Loop() {
				st.send(b, http.MethodGet, st.get, nil, http.StatusOK)
			}
		}},
		{"get-parallel", func(b *testing.B, st *store) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					st.send(b, http.MethodGet, st.get, nil, http.StatusOK)
				}
			})
		}},
		{"idempotent-replay", func(b *testing.B, st *store) {
			body := []byte(fmt.Sprintf(`{"category":"sos","idempotency_key":"bench-%d","location":{"coordinates":[3,6]}}`, n.Add(1)))
			st.send(b, http.MethodPost, "/incidents", body, http.StatusCreated)
			for b.Loop() {
				st.send(b, http.MethodPost, "/incidents", body, http.StatusOK)
			}
		}},
	} {
		for _, st := range stores {
			b.Run(op.name+"/"+st.name, func(b *testing.B) { op.run(b, st) })
		}
	}
}

// serveLoopback serves h's API on a loopback server until the benchmark
// ends and returns a client of it: send makes a request with h's live key
// and returns the answer's status and body. The client keeps up to 64
// idle connections, so parallel clients reuse them instead of dialing.
func serveLoopback(b *testing.B, h *harness) (send func(tb testing.TB, method, path, body string) (int, []byte)) {
	handler, _ := newHandler(h.sety)
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return func(tb testing.TB, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, srv.URL+"/v1/external"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.live)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, out
	}
}

// BenchmarkMixedWorkload runs the load test's mixed workload (creates with
// repeated keys, notes, cancels, check-ins, checkouts, lists and stats)
// from parallel clients over a real loopback connection, on SQLite
// (synchronous=FULL), rate limits off; ns/op is per request.
//
//	go test . -run '^$' -bench MixedWorkload -benchtime 4000x
func BenchmarkMixedWorkload(b *testing.B) {
	serve := serveLoopback(b, newSQLiteHarnessSync(b, "FULL"))
	send := func(method, path, body string) (int, []byte) { return serve(b, method, path, body) }
	var tl tally
	var client64 atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := int(client64.Add(1))
		n := 0
		for pb.Next() {
			n++
		}
		mixedClient(b, send, c, n, &tl)
	})
}
