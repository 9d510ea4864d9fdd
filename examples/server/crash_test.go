package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
)

// TestMain lets the crash test run this test binary as the server itself,
// and starts PostgreSQL for the tests that need it (internal/pgtest).
func TestMain(m *testing.M) {
	if os.Getenv("SETY_CRASH_CHILD") == "1" {
		main()
		return
	}
	os.Exit(pgtest.Main(m, postgres.Migrate))
}

const crashKey = "sety_live_c4a5c4a5c4a5c4a5c4a5c4a5c4a5c4a5"

// startChild runs the server on dbPath in a child process, unlimited and
// with crashKey, and returns it with its address.
func startChild(t *testing.T, dbPath string) (*exec.Cmd, string) {
	t.Helper()
	return startProcess(t, "SETY_DB="+dbPath, "SETY_BOOTSTRAP_LIVE_KEY="+crashKey, "SETY_RATE_LIMITS=false")
}

type ack struct {
	mu        sync.Mutex
	incidents map[string]string // idempotency key -> incident id
	notes     map[string]int    // incident id -> acknowledged notes
	cancelled map[string]bool
	logs      []string
}

// The server is killed with SIGKILL under concurrent writes; every write it
// acknowledged is there after a restart, with its outbox event, and
// idempotency still holds.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dbPath := filepath.Join(t.TempDir(), "sety.db")
	child, base := startChild(t, dbPath)
	client := &http.Client{Timeout: 5 * time.Second}
	do := func(method, path, body string) (int, []byte, error) {
		req, _ := http.NewRequest(method, base+"/v1/external"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+crashKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	acks := &ack{incidents: map[string]string{}, notes: map[string]int{}, cancelled: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				code, body, err := do(http.MethodPost, "/incidents", `{"category":"sos","idempotency_key":"`+key+`","location":{"coordinates":[3.38,6.52]}}`)
				if err != nil || code != http.StatusCreated {
					continue // not acknowledged: the server may be dying
				}
				var created struct {
					Incident struct {
						ID string `json:"incident_id"`
					}
				}
				_ = json.Unmarshal(body, &created)
				id := created.Incident.ID
				acks.mu.Lock()
				acks.incidents[key] = id
				acks.mu.Unlock()
				if code, _, err := do(http.MethodPost, "/incidents/"+id+"/notes", `{"message":"on it"}`); err == nil && code == http.StatusCreated {
					acks.mu.Lock()
					acks.notes[id]++
					acks.mu.Unlock()
				}
				if i%2 == 0 {
					if code, _, err := do(http.MethodPost, "/incidents/"+id+"/cancel", `{"reason":"safe"}`); err == nil && code == http.StatusOK {
						acks.mu.Lock()
						acks.cancelled[id] = true
						acks.mu.Unlock()
					}
				}
				code, body, err = do(http.MethodPost, "/access-logs", `{"site":"gate","visitor":{"name":"V"}}`)
				if err == nil && code == http.StatusCreated {
					var l struct {
						AccessLog struct {
							ID string `json:"log_id"`
						} `json:"access_log"`
					}
					_ = json.Unmarshal(body, &l)
					acks.mu.Lock()
					acks.logs = append(acks.logs, l.AccessLog.ID)
					acks.mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond) // let writes pile up; the kill lands in the middle of them
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	wg.Wait()
	writes := len(acks.incidents) + len(acks.logs) + len(acks.cancelled)
	for _, n := range acks.notes {
		writes += n
	}
	if len(acks.incidents) < 10 {
		t.Fatalf("only %d incidents acknowledged before the kill", len(acks.incidents))
	}

	// Everything acknowledged is in the file, with its events.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs, _, err := db.AuthStore().ListOrganizations(ctx, 0, 1)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations %v %v", orgs, err)
	}
	tenant := auth.Tenant{OrgID: orgs[0].ID, Env: auth.Live}
	found := 0
	for _, id := range acks.incidents {
		inc, err := db.IncidentStore().GetIncident(ctx, tenant, id)
		if err != nil {
			t.Fatalf("acknowledged incident %s lost: %v", id, err)
		}
		found++
		notes := 0
		for _, e := range inc.Timeline {
			if e.Event == incident.EventNoteAdded {
				notes++
			}
		}
		if notes < acks.notes[id] {
			t.Fatalf("incident %s has %d notes, %d acknowledged", id, notes, acks.notes[id])
		}
		found += acks.notes[id]
		if acks.cancelled[id] {
			if inc.Status != incident.Cancelled {
				t.Fatalf("acknowledged cancel of %s lost: %s", id, inc.Status)
			}
			found++
		}
		if inc.Sequence < int64(1+acks.notes[id]) {
			t.Fatalf("incident %s has sequence %d: events lost", id, inc.Sequence)
		}
	}
	for _, id := range acks.logs {
		if _, err := db.AccessStore().GetLog(ctx, tenant, id); err != nil {
			t.Fatalf("acknowledged access log %s lost: %v", id, err)
		}
		found++
	}
	pending, err := db.OutboxReader().PendingEvents(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Logf("%d writes acknowledged before SIGKILL, %d found after it; %d outbox events were still pending", writes, found, len(pending))
	if found != writes {
		t.Fatalf("found %d of %d acknowledged writes", found, writes)
	}

	// A restarted server answers, and idempotency still holds.
	child, base = startChild(t, dbPath)
	defer func() { child.Process.Kill(); child.Wait() }()
	checked := 0
	for key, id := range acks.incidents {
		code, body, err := do(http.MethodPost, "/incidents", `{"category":"medical","idempotency_key":"`+key+`","location":{"coordinates":[3,6]}}`)
		if err != nil || code != http.StatusOK || !strings.Contains(string(body), `"idempotent":true`) || !strings.Contains(string(body), id) {
			t.Fatalf("replay of %s after the restart: %d %s %v", key, code, body, err)
		}
		if checked++; checked == 20 {
			break
		}
	}
	// The pending events get published by the restarted worker.
	deadline := time.Now().Add(10 * time.Second)
	for {
		db, err := sqlite.Open(ctx, dbPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		left, _ := db.OutboxReader().PendingEvents(ctx, 100000)
		db.Close()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after the restart", len(left))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
