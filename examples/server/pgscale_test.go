package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// logged is one event as a stream delivered it.
type logged struct {
	position int64
	id       string
	subject  string
	sequence int64
}

// follow reads the event stream of base with key into a list, from the
// log's start (Last-Event-ID 0: however late it connects, it holds every
// event), reconnecting with the last id it read whenever the stream ends
// (a server restarting, a database restarting), until ctx ends.
func follow(t *testing.T, ctx context.Context, base, key string) func() []logged {
	var (
		mu  sync.Mutex
		got []logged
	)
	go func() {
		last := "0"
		for ctx.Err() == nil {
			resp, events, err := apitest.DialStream(ctx, base, key, last)
			if err != nil || resp.StatusCode != http.StatusOK {
				if err == nil {
					resp.Body.Close()
				}
				time.Sleep(100 * time.Millisecond) // the server is away: ask again, as a client does
				continue
			}
			for ev := range events {
				if ev.Type == "heartbeat" {
					continue
				}
				pos, _ := strconv.ParseInt(ev.ID, 10, 64)
				data, _ := ev.Data["data"].(map[string]any)
				inc, _ := data["incident"].(map[string]any)
				subject, _ := inc["incident_id"].(string)
				seq, _ := ev.Data["sequence"].(float64)
				id, _ := ev.Data["id"].(string)
				mu.Lock()
				got = append(got, logged{position: pos, id: id, subject: subject, sequence: int64(seq)})
				mu.Unlock()
				last = ev.ID
			}
		}
	}()
	return func() []logged {
		mu.Lock()
		defer mu.Unlock()
		return append([]logged(nil), got...)
	}
}

// checkLog fails unless events is a log: positions increasing without a
// gap, no event twice, each incident's events in sequence order.
func checkLog(t *testing.T, name string, events []logged) {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]int64{}
	for i, ev := range events {
		if i > 0 && ev.position != events[i-1].position+1 {
			t.Fatalf("%s: position %d after %d", name, ev.position, events[i-1].position)
		}
		if seen[ev.id] {
			t.Fatalf("%s: event %s twice", name, ev.id)
		}
		seen[ev.id] = true
		if ev.sequence <= last[ev.subject] {
			t.Fatalf("%s: %s's sequence %d after %d", name, ev.subject, ev.sequence, last[ev.subject])
		}
		last[ev.subject] = ev.sequence
	}
}

// waitFor polls read until it holds n events or a minute has passed.
func waitFor(read func() []logged, n int) []logged {
	deadline := time.Now().Add(time.Minute)
	for {
		got := read()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond) // a client waiting for its stream
	}
}

// Two server processes over one store, incidents changed through both at
// once: a stream on each instance delivers the same log, every event once,
// positions without a gap, each incident's events in order.
func TestTwoInstancesStreamOneLog(t *testing.T) {
	onEachSharedStore(t, twoInstancesStreamOneLog)
}

func twoInstancesStreamOneLog(t *testing.T, db string) {
	common := []string{db, "SETY_RATE_LIMITS=false"}
	a := startInstance(t, append(common, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)...)
	b := startInstance(t, common...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := map[string]func() []logged{"A": follow(t, ctx, strings.TrimSuffix(a.base, "/v1/external"), instancesKey),
		"B": follow(t, ctx, strings.TrimSuffix(b.base, "/v1/external"), instancesKey)}
	const incidents = 80 // × 4 events: created, dispatching, a note, cancelled
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < incidents; i += 8 {
				var created struct {
					Incident struct {
						ID string `json:"incident_id"`
					}
				}
				first, second := []*instance{a, b}[i%2], []*instance{b, a}[i%2]
				first.call(t, instancesKey, http.MethodPost, "/incidents", sos, &created)
				id := created.Incident.ID
				second.call(t, instancesKey, http.MethodPost, "/incidents/"+id+"/notes", `{"message":"on it"}`, nil)
				first.call(t, instancesKey, http.MethodPost, "/incidents/"+id+"/cancel", `{"reason_code":"other"}`, nil)
			}
		})
	}
	wg.Wait()
	logs := map[string][]logged{}
	for name, read := range streams {
		logs[name] = waitFor(read, 4*incidents)
		if len(logs[name]) != 4*incidents {
			t.Fatalf("stream %s delivered %d events, want %d", name, len(logs[name]), 4*incidents)
		}
		checkLog(t, "stream "+name, logs[name])
	}
	for i := range logs["A"] {
		if logs["A"][i] != logs["B"][i] {
			t.Fatalf("the streams differ at their event %d: A %+v, B %+v", i, logs["A"][i], logs["B"][i])
		}
	}
}

// Two server processes over one PostgreSQL database under concurrent
// writes through both; one is killed with SIGKILL, then the database
// restarts as after a crash (immediate shutdown: recovery from the WAL),
// then the killed one starts again, and writes go on throughout. Every
// write a client got an answer for is in the database afterwards, with
// its events; idempotency keys still hold; and a stream on the surviving
// instance, reconnecting with its last event id whenever it broke,
// delivered exactly the database's log: every event once, positions
// without a gap, each incident's events in order.
func TestPostgresKeepsAcknowledgedWritesThroughKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes and a PostgreSQL cluster")
	}
	cluster, url := pgtest.NewCluster(t, pgtest.Options{Durable: true})
	common := []string{"SETY_DATABASE_URL=" + url, "SETY_RATE_LIMITS=false"}
	start := func() (*exec.Cmd, string) {
		cmd, base := startProcess(t, append(common, "SETY_BOOTSTRAP_LIVE_KEY="+crashKey)...)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, base
	}
	a, baseA := start()
	_, baseB := start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streamB := follow(t, ctx, baseB, crashKey)

	client := &http.Client{Timeout: 10 * time.Second}
	do := func(base, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, base+"/v1/external"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+crashKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	var (
		mu    sync.Mutex
		bases = []string{baseA, baseB}
	)
	target := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return bases[i%2]
	}
	acks := &ack{incidents: map[string]string{}, notes: map[string]int{}, cancelled: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				code, body := do(target(w+i), http.MethodPost, "/incidents", `{"category":"sos","idempotency_key":"`+key+`","location":{"coordinates":[3.38,6.52]}}`)
				if code != http.StatusCreated {
					time.Sleep(20 * time.Millisecond) // a server or the database is away
					continue
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
				if code, _ := do(target(w+i+1), http.MethodPost, "/incidents/"+id+"/notes", `{"message":"on it"}`); code == http.StatusCreated {
					acks.mu.Lock()
					acks.notes[id]++
					acks.mu.Unlock()
				}
				if i%2 == 0 {
					if code, _ := do(target(w+i), http.MethodPost, "/incidents/"+id+"/cancel", `{"reason":"safe"}`); code == http.StatusOK {
						acks.mu.Lock()
						acks.cancelled[id] = true
						acks.mu.Unlock()
					}
				}
			}
		})
	}
	time.Sleep(time.Second) // writes pile up through both; the kill lands among them
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()
	time.Sleep(500 * time.Millisecond) // B alone
	if err := cluster.Restart(); err != nil {
		t.Fatal(err)
	}
	_, baseA = start() // A again, after the database came back
	mu.Lock()
	bases[0] = baseA
	mu.Unlock()
	time.Sleep(time.Second) // both again
	close(stop)
	wg.Wait()
	if len(acks.incidents) < 20 {
		t.Fatalf("only %d incidents acknowledged", len(acks.incidents))
	}

	// Every acknowledged write is in the database, with its events.
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orgs, _, err := db.AuthStore().ListOrganizations(context.Background(), 0, 1)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations %v %v", orgs, err)
	}
	tenant := auth.Tenant{OrgID: orgs[0].ID, Env: auth.Live}
	writes := 0
	for _, id := range acks.incidents {
		inc, err := db.IncidentStore().GetIncident(context.Background(), tenant, id)
		if err != nil {
			t.Fatalf("acknowledged incident %s lost: %v", id, err)
		}
		notes := 0
		for _, e := range inc.Timeline {
			if e.Event == incident.EventNoteAdded {
				notes++
			}
		}
		if notes < acks.notes[id] || acks.cancelled[id] && inc.Status != incident.Cancelled {
			t.Fatalf("incident %s: %d notes (%d acknowledged), status %s (cancel acknowledged: %v)", id, notes, acks.notes[id], inc.Status, acks.cancelled[id])
		}
		writes += 1 + acks.notes[id]
		if acks.cancelled[id] {
			writes++
		}
	}
	var log []outbox.Event
	for after := int64(0); ; {
		page, next, err := db.EventLog().EventsAfter(context.Background(), after, outbox.Filter{}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, page...)
		if len(page) == 0 {
			break
		}
		after = next
	}
	perIncident := map[string]int64{}
	for _, ev := range log {
		perIncident[ev.SubjectID]++
	}
	for _, id := range acks.incidents {
		inc, _ := db.IncidentStore().GetIncident(context.Background(), tenant, id)
		if perIncident[id] != inc.Sequence {
			t.Fatalf("incident %s at sequence %d has %d events in the log", id, inc.Sequence, perIncident[id])
		}
	}
	t.Logf("%d writes acknowledged through a SIGKILL of one instance and a PostgreSQL restart; all found; the log holds %d events", writes, len(log))

	// Idempotency holds after it all.
	checked := 0
	for key, id := range acks.incidents {
		code, body := do(baseB, http.MethodPost, "/incidents", `{"category":"medical","idempotency_key":"`+key+`","location":{"coordinates":[3,6]}}`)
		if code != http.StatusOK || !strings.Contains(string(body), id) {
			t.Fatalf("replay of %s: %d %s", key, code, body)
		}
		if checked++; checked == 10 {
			break
		}
	}

	// B's stream, reconnected across the restart, delivered the log.
	streamed := waitFor(streamB, len(log))
	checkLog(t, "B's stream", streamed)
	if len(streamed) != len(log) {
		t.Fatalf("B's stream delivered %d events, the log holds %d", len(streamed), len(log))
	}
	for i, ev := range log {
		if streamed[i].id != ev.ID || streamed[i].position != ev.Position {
			t.Fatalf("B's stream differs from the log at event %d: %+v, want %s at %d", i, streamed[i], ev.ID, ev.Position)
		}
	}
}
