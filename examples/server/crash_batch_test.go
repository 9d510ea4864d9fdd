package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/sqlite"
)

// The server is killed with SIGKILL while many concurrent creates keep its
// writer committing batches, three times over one file. Every 201 a client
// got is in the file after each kill, with its incident.created event; two
// clients racing with one idempotency key got the same incident, and there
// is one incident per key.
func TestCrashSafetyUnderGroupCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	const (
		pairs  = 16 // 32 clients: each pair sends the same idempotency keys at once
		cycles = 3
	)
	dbPath := filepath.Join(t.TempDir(), "sety.db")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * pairs}}
	acked := map[string]string{} // idempotency key -> incident id, from every answer
	var total, inFlight int
	for cycle := range cycles {
		child, base := startChild(t, dbPath)
		create := func(key string) (string, error) {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/external/incidents",
				strings.NewReader(`{"category":"sos","idempotency_key":"`+key+`","location":{"coordinates":[3.38,6.52]}}`))
			req.Header.Set("Authorization", "Bearer "+crashKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return "", err
			}
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
			}
			var out struct {
				Incident struct {
					ID string `json:"incident_id"`
				}
			}
			if err := json.Unmarshal(body, &out); err != nil || out.Incident.ID == "" {
				return "", fmt.Errorf("answer %s: %v", body, err)
			}
			return out.Incident.ID, nil
		}

		var (
			mu      sync.Mutex
			answers = map[string][]string{} // key -> ids answered in this cycle
			killed  atomic.Bool
			lost    atomic.Int64 // requests without an answer once the kill landed
			stop    = make(chan struct{})
			wg      sync.WaitGroup
		)
		for p := range pairs {
			for range 2 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						key := fmt.Sprintf("c%d-p%d-%d", cycle, p, i)
						id, err := create(key)
						if err != nil {
							if killed.Load() {
								lost.Add(1)
								return
							}
							continue
						}
						mu.Lock()
						answers[key] = append(answers[key], id)
						mu.Unlock()
					}
				})
			}
		}
		time.Sleep(time.Duration(800+300*cycle) * time.Millisecond)
		killed.Store(true)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		close(stop)
		wg.Wait()

		n := 0
		for key, ids := range answers {
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("one idempotency key %s answered with incidents %s and %s", key, ids[0], id)
				}
				n++
			}
			acked[key] = ids[0]
		}
		if len(answers) < 20 {
			t.Fatalf("cycle %d: only %d incidents acknowledged before the kill", cycle, len(answers))
		}
		total += n
		inFlight += int(lost.Load())
		checkAcked(t, dbPath, acked)
		t.Logf("cycle %d: %d answers (%d keys) before SIGKILL, %d requests in flight at it; all %d keys acknowledged so far are in the file",
			cycle, n, len(answers), lost.Load(), len(acked))
	}
	t.Logf("%d answers over %d kills, %d requests cut off in flight; nothing acknowledged was lost", total, cycles, inFlight)
}

// checkAcked opens the file as the next process would and checks every
// acknowledged incident, its created event and its key.
func checkAcked(t *testing.T, dbPath string, acked map[string]string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath, nil) // recovers the WAL a killed process left
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for key, id := range acked {
		var (
			incidents, events int
			stored            string
		)
		if err := raw.QueryRow(`SELECT count(*), coalesce(min(id), '') FROM incidents WHERE idempotency_key = ?`, key).Scan(&incidents, &stored); err != nil {
			t.Fatal(err)
		}
		if incidents != 1 || stored != id {
			t.Fatalf("acknowledged incident %s (key %s) lost: %d incidents with the key, %q", id, key, incidents, stored)
		}
		if err := raw.QueryRow(`SELECT count(*) FROM outbox_events WHERE subject_id = ? AND type = 'incident.created'`, id).Scan(&events); err != nil {
			t.Fatal(err)
		}
		if events != 1 {
			t.Fatalf("acknowledged incident %s has %d incident.created events", id, events)
		}
	}
}
