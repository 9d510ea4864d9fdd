package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/pgtest"
)

// instance is a server process of the test binary (TestMain runs main()).
type instance struct {
	cmd  *exec.Cmd
	base string
}

// startInstance runs a server in a child process with env and returns it
// once it serves; the test stops it at the end.
func startInstance(t *testing.T, env ...string) *instance {
	t.Helper()
	cmd, addr := startProcess(t, env...)
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	return &instance{cmd: cmd, base: addr + "/v1/external"}
}

// call sends a request with key and decodes a JSON answer into out (if not
// nil); it returns the status.
func (in *instance) call(t *testing.T, key, method, path, body string, out any) int {
	t.Helper()
	return apitest.Call(t, method, in.base+path, key, body, out)
}

const (
	instancesKey     = "sety_live_1a2b3c4d1a2b3c4d1a2b3c4d1a2b3c4d"
	instancesTestKey = "sety_test_1a2b3c4d1a2b3c4d1a2b3c4d1a2b3c4d"
)

// onEachSharedStore runs test with the setting of a fresh store that
// several server processes can share: a SQLite file, and a PostgreSQL
// database (skipped, saying why, where PostgreSQL is not installed).
func onEachSharedStore(t *testing.T, test func(t *testing.T, store string)) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Run("sqlite", func(t *testing.T) { test(t, "SETY_DB="+filepath.Join(t.TempDir(), "sety.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, "SETY_DATABASE_URL="+pgtest.URL(t)) })
}

// Two server processes over one store behave as one: an incident
// committed through one moves the other's safety score within its next
// follow of the event log, and the starter plan's 60 requests a minute hold
// across both (limits_test.go).
func TestTwoInstancesShareLimitsAndThreat(t *testing.T) {
	onEachSharedStore(t, twoInstancesShareLimitsAndThreat)
}

func twoInstancesShareLimitsAndThreat(t *testing.T, db string) {
	a := startInstance(t, db, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey, "SETY_BOOTSTRAP_TEST_KEY="+instancesTestKey, "SETY_PLAN=starter")
	b := startInstance(t, db, "SETY_PLAN=starter")

	// Threat (live key): 40 incidents through A, B's score.
	place := "lat=6.4281&lng=3.4219"
	var score struct{ Score int }
	if b.call(t, instancesKey, http.MethodGet, "/safety/score?"+place, "", &score); score.Score != 100 {
		t.Fatalf("empty store: B scores %d", score.Score)
	}
	for i := range 40 {
		body := fmt.Sprintf(`{"category":"sos","location":{"coordinates":[%f,%f]}}`, 3.4219+float64(i%5)*0.0005, 6.4281+float64(i/5)*0.0005)
		if code := a.call(t, instancesKey, http.MethodPost, "/incidents", body, nil); code != http.StatusCreated {
			t.Fatalf("create %d on A: %d", i, code)
		}
	}
	committed := time.Now()
	for {
		b.call(t, instancesKey, http.MethodGet, "/safety/score?"+place, "", &score)
		if score.Score < 100 {
			break
		}
		if time.Since(committed) > 2*time.Second {
			t.Fatalf("B still scores the place 100, %v after A committed 40 incidents there", time.Since(committed))
		}
		// Polling B as a client would, within the plan: the 41 requests so
		// far and at most 11 polls leave A's lease its unused slots.
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("B's score moved to %d %v after A's commit", score.Score, time.Since(committed).Round(time.Millisecond))

	// The limit, of the test environment (a tenant of its own).
	shareStarterLimit(t, a, b, instancesTestKey)
}

// A read through one instance sees every change committed through the
// other, at once: each instance keeps incidents it has read (SQLite answers
// a get from them while nothing has committed since), and a note or a
// cancel through the other instance must show in the very next get. Rate
// limits are off so that the gets themselves write nothing.
func TestTwoInstancesReadEachOthersChanges(t *testing.T) {
	onEachSharedStore(t, twoInstancesReadEachOthersChanges)
}

func twoInstancesReadEachOthersChanges(t *testing.T, db string) {
	common := []string{db, "SETY_RATE_LIMITS=false"}
	a := startInstance(t, append(common, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)...)
	b := startInstance(t, common...)
	type got struct {
		Incident struct {
			ID       string `json:"incident_id"`
			Status   string
			Sequence int64
			Timeline []struct{ Message string }
		}
	}
	var created got
	if code := a.call(t, instancesKey, http.MethodPost, "/incidents", sos, &created); code != http.StatusCreated {
		t.Fatalf("create on A: %d", code)
	}
	path := "/incidents/" + created.Incident.ID
	read := func(in *instance) got {
		var g got
		if code := in.call(t, instancesKey, http.MethodGet, path, "", &g); code != http.StatusOK {
			t.Fatalf("get: %d", code)
		}
		return g
	}
	for i := range 5 {
		writer, reader := []*instance{a, b}[i%2], []*instance{b, a}[i%2]
		before := read(reader)
		read(reader) // a second get, which the kept incident may answer
		msg := fmt.Sprintf("note %d", i)
		if code := writer.call(t, instancesKey, http.MethodPost, path+"/notes", `{"message":"`+msg+`"}`, nil); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("note %d: %d", i, code)
		}
		after := read(reader)
		tl := after.Incident.Timeline
		if after.Incident.Sequence <= before.Incident.Sequence || len(tl) != len(before.Incident.Timeline)+1 || tl[len(tl)-1].Message != msg {
			t.Fatalf("after note %d through the other instance, a get shows sequence %d (was %d) and timeline %v", i, after.Incident.Sequence, before.Incident.Sequence, tl)
		}
	}
	read(b)
	read(b)
	if code := a.call(t, instancesKey, http.MethodPost, path+"/cancel", `{"reason_code":"other"}`, nil); code != http.StatusOK {
		t.Fatalf("cancel on A: %d", code)
	}
	if st := read(b).Incident.Status; st != "cancelled" {
		t.Fatalf("B's get right after A's cancel: status %s", st)
	}
}

// Webhooks with two instances over one store: every event of 1,000, whose
// incidents were changed through both instances, reaches the endpoint once,
// and each incident's events arrive in sequence order.
func TestTwoInstancesDeliverEachEventOnceInOrder(t *testing.T) {
	onEachSharedStore(t, twoInstancesDeliverEachEventOnceInOrder)
}

func twoInstancesDeliverEachEventOnceInOrder(t *testing.T, db string) {
	var (
		mu       sync.Mutex
		received = map[string]int{}   // event id -> deliveries
		lastSeq  = map[string]int64{} // incident -> last sequence received
		outOfSeq []string
	)
	receiver := newTestReceiver(t, func(p struct {
		ID       string `json:"id"`
		Sequence int64  `json:"sequence"`
		Data     struct {
			Incident struct {
				ID string `json:"incident_id"`
			} `json:"incident"`
		} `json:"data"`
	}) {
		mu.Lock()
		defer mu.Unlock()
		received[p.ID]++
		id := p.Data.Incident.ID
		if p.Sequence <= lastSeq[id] {
			outOfSeq = append(outOfSeq, fmt.Sprintf("%s: %d after %d", id, p.Sequence, lastSeq[id]))
		}
		lastSeq[id] = max(lastSeq[id], p.Sequence)
	})
	common := []string{db, "SETY_RATE_LIMITS=false", "SETY_ALLOW_PRIVATE_WEBHOOKS=1"}
	a := startInstance(t, append(common, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)...)
	b := startInstance(t, common...)
	if code := a.call(t, instancesKey, http.MethodPost, "/webhooks", `{"url":"`+receiver+`","events":["incident.*"]}`, nil); code != http.StatusCreated {
		t.Fatalf("register the endpoint: %d", code)
	}
	// 200 incidents × 5 events (created, dispatching, two notes, cancelled),
	// each incident's changes alternating between the instances.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 200; i += 8 {
				var created struct {
					Incident struct {
						ID string `json:"incident_id"`
					}
				}
				first, second := []*instance{a, b}[i%2], []*instance{b, a}[i%2]
				first.call(t, instancesKey, http.MethodPost, "/incidents", sos, &created)
				id := created.Incident.ID
				second.call(t, instancesKey, http.MethodPost, "/incidents/"+id+"/notes", `{"message":"one"}`, nil)
				first.call(t, instancesKey, http.MethodPost, "/incidents/"+id+"/notes", `{"message":"two"}`, nil)
				second.call(t, instancesKey, http.MethodPost, "/incidents/"+id+"/cancel", `{"reason_code":"other"}`, nil)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n >= 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // waiting for the deliveries, as a receiver would
	}
	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for _, n := range received {
		if n > 1 {
			twice++
		}
	}
	if len(received) != 1000 || twice > 0 || len(outOfSeq) > 0 {
		t.Fatalf("%d distinct events received (want 1000), %d more than once, %d out of order: %v", len(received), twice, len(outOfSeq), outOfSeq[:min(5, len(outOfSeq))])
	}
}

// newTestReceiver serves a webhook endpoint on loopback that decodes each
// delivery into a P and hands it to got, answering 204; it returns its URL.
func newTestReceiver[P any](t *testing.T, got func(P)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p P
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got(p)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks"
}
