package postgres

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/internal/syncbuf"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// instance is a running Sety over a DB, served over HTTP.
type instance struct {
	sety *sety.Sety
	url  string
}

func runInstance(t *testing.T, ctx context.Context, db *DB) *instance {
	t.Helper()
	logs := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of an instance:\n%s", logs.String())
		}
	})
	s, err := sety.New(db, sety.WithWebhooks(webhook.Config{AllowPrivate: true, AllowInsecure: true}), sety.WithRateLimiter(nil),
		sety.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	mux := http.NewServeMux()
	s.Register(humago.New(mux, sety.NewAPIConfig()))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return &instance{sety: s, url: srv.URL}
}

// A change whose transaction inserted its event early and committed late,
// after later changes had committed and been read, reaches every reader
// exactly once, in log order: a stream that was open, a stream resumed
// from a Last-Event-ID taken before it committed (on this instance and
// another), the webhook fan-out, and the threat engine, of an instance
// that was running and of one that loaded while the change was committed
// but not yet positioned.
func TestLateCommitReachesEveryReaderOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	var mu sync.Mutex
	delivered := map[string]int{} // event id -> deliveries
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ ID string }
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		delivered[p.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	a := runInstance(t, ctx, db)
	org, err := a.sety.Auth.CreateOrganization(ctx, "Acme", auth.Enterprise)
	if err != nil {
		t.Fatal(err)
	}
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	_, key, err := a.sety.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "all", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	if code := apitest.Call(t, http.MethodPost, a.url+"/v1/external/webhooks", key, `{"url":"`+receiver.URL+`","events":["incident.*"]}`, nil); code != http.StatusCreated {
		t.Fatalf("register the endpoint: %d", code)
	}
	streamCtx, closeStream := context.WithCancel(ctx)
	defer closeStream()
	_, open := apitest.OpenStream(t, streamCtx, a.url, key, "")

	// The late change: an incident and its created event, inserted now and
	// committed at release.
	now := clock.At(time.Now().UTC().Truncate(time.Millisecond))
	late := &incident.Incident{ID: "inc_latelatelatelate", Category: incident.SOS, Severity: incident.High, Status: incident.Created,
		Title: "SOS alert", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.4281, 3.4219)},
		Timeline:  []incident.IncidentTimelineEvent{{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received", Timestamp: now}},
		CreatedAt: now, UpdatedAt: now, OrgID: org.ID, Environment: auth.Live, Sequence: 1}
	data, err := json.Marshal(map[string]any{"incident": late})
	if err != nil {
		t.Fatal(err)
	}
	lateEvent := outbox.Event{ID: "evt_latelatelatelate", OrgID: org.ID, Environment: "live", Type: incident.TypeCreated,
		SubjectID: late.ID, Sequence: 1, Data: data, CreatedAt: now.Time}
	inserted, release, committed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var released sync.Once
	t.Cleanup(func() { released.Do(func() { close(release) }) }) // a test that fails while it holds the change lets it go
	go func() {
		committed <- db.inTx(ctx, func(tx *txn) error {
			values, err := sqlstore.IncidentValues(dialect{}, late, nil)
			if err != nil {
				return err
			}
			args := sqlstore.IncidentArgs(dialect{}, late, values)
			var b pgx.Batch
			b.Queue(insertIncident, args...)
			queueEvents(&b, []outbox.Event{lateEvent})
			br := tx.send(ctx, &b)
			for range b.Len() {
				if _, err := br.Exec(); err != nil {
					br.Close()
					return err
				}
			}
			if err := br.Close(); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-committed:
		t.Fatalf("the late change failed before its commit: %v", err)
	}
	heldSince := time.Now()

	// Later changes commit, and the open stream reads them: the late event
	// is not among them, and nothing waits for it.
	var ids []string
	for range 3 {
		var created struct {
			Incident struct {
				ID string `json:"incident_id"`
			}
		}
		if code := apitest.Call(t, http.MethodPost, a.url+"/v1/external/incidents", key,
			`{"category":"sos","location":{"coordinates":[3.4219,6.4281]}}`, &created); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		ids = append(ids, created.Incident.ID)
	}
	var lastID string
	seen := map[string]bool{}
	for range 6 { // each create: incident.created and incident.dispatching
		ev := apitest.Next(t, open, 10*time.Second)
		if ev.Data["id"] == lateEvent.ID {
			t.Fatal("the open stream sent the late event before it committed")
		}
		seen[ev.Data["id"].(string)] = true
		lastID = ev.ID
	}
	if err := a.sety.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	if n := a.sety.Threat.Len(); n != 3 {
		t.Fatalf("threat engine holds %d before the late commit, want 3", n)
	}

	// The late change commits while no sequencer can run (another holds
	// the lock): a second instance loads its threat engine now, from a
	// snapshot that holds the late incident before the log has its event.
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	released.Do(func() { close(release) })
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	t.Logf("the late change committed %v after its insert, after 3 later changes", time.Since(heldSince).Round(time.Millisecond))
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	b := runInstance(t, ctx, other)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	conn.Release()

	// The open stream gets it next, once.
	got := apitest.Next(t, open, 10*time.Second)
	if got.Data["id"] != lateEvent.ID || got.Type != incident.TypeCreated {
		t.Fatalf("after the late commit the open stream sent %+v, want the late event", got)
	}
	if pos, _ := strconv.ParseInt(got.ID, 10, 64); pos <= mustInt(t, lastID) {
		t.Fatalf("the late event has position %d, not after %s", pos, lastID)
	}
	// Streams resumed from the last id read before it, on both instances:
	// the late event, once, and nothing already read.
	for _, in := range []*instance{a, b} {
		_, resumed := apitest.OpenStream(t, streamCtx, in.url, key, lastID)
		ev := apitest.Next(t, resumed, 10*time.Second)
		if ev.Data["id"] != lateEvent.ID || ev.ID != got.ID || seen[ev.Data["id"].(string)] {
			t.Fatalf("resumed after %s on %s: %+v, want the late event at %s", lastID, in.url, ev, got.ID)
		}
	}
	// Then nothing more until something new commits: the next event is
	// that, on the open stream.
	apitest.Call(t, http.MethodPost, a.url+"/v1/external/incidents/"+ids[0]+"/notes", key, `{"message":"after"}`, nil)
	if ev := apitest.Next(t, open, 10*time.Second); ev.Type != incident.TypeNoteAdded {
		t.Fatalf("after the late event the open stream sent %+v, want the note", ev)
	}

	// The threat engines count it once: the running one from the log, the
	// one loaded meanwhile from its snapshot (skipping its event).
	for name, in := range map[string]*instance{"running": a, "loaded while it was ahead": b} {
		if err := in.sety.SyncThreat(ctx); err != nil {
			t.Fatal(err)
		}
		if n := in.sety.Threat.Len(); n != 4 {
			t.Fatalf("the %s instance's threat engine holds %d incidents, want 4", name, n)
		}
	}

	// Webhooks: each of the 8 events once (6 + the late one + the note).
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n, lateN := len(delivered), delivered[lateEvent.ID]
		twice := 0
		for _, c := range delivered {
			if c > 1 {
				twice++
			}
		}
		mu.Unlock()
		if twice > 0 {
			t.Fatalf("%d events delivered more than once", twice)
		}
		if n == 8 && lateN == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 8 events delivered (the late one %d times)", n, lateN)
		}
		time.Sleep(20 * time.Millisecond) // waiting for deliveries, as a receiver does
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
