package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

var (
	t0     = time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)
	tenant = auth.Tenant{OrgID: "org_aaaaaaaaaaaaaaaa", Env: auth.Live}
)

func noDeliveries(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil }

func withOrg(t *testing.T) database {
	db := newStores(t).(database)
	org := &auth.Organization{ID: tenant.OrgID, Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(t0)}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return db
}

func newIncident(id string) (*incident.Incident, outbox.Event) {
	now := clock.At(t0)
	inc := &incident.Incident{ID: id, Category: incident.SOS, Severity: incident.High, Status: incident.Created, Title: "SOS",
		Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: now, UpdatedAt: now,
		OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
	return inc, event(inc)
}

func event(inc *incident.Incident) outbox.Event {
	data, _ := json.Marshal(map[string]any{"incident": inc})
	return outbox.Event{ID: fmt.Sprintf("evt_%s_%d", inc.ID, inc.Sequence), OrgID: inc.OrgID, Environment: string(inc.Environment),
		Type: "incident.note_added", SubjectID: inc.ID, Sequence: inc.Sequence, Data: data, CreatedAt: t0}
}

// An event whose transaction draws its position first but commits last is
// not skipped by a reader tailing publish_seq, though a reader tailing
// position would have passed it.
func TestTailingNeverSkipsALateCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := withOrg(t)

	slow, err := db.Pool().Begin(ctx) // a change still committing
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	var slowPos int64
	if err := slow.QueryRow(ctx, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
		VALUES ('evt_slow', $1, 'live', 'incident.created', 'inc_slow', 1, '{}', $2) RETURNING position`, tenant.OrgID, t0).Scan(&slowPos); err != nil {
		t.Fatal(err)
	}
	inc, ev := newIncident("inc_fast")
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, ev); err != nil {
		t.Fatal(err)
	}
	if n, err := db.WebhookQueue().FanOut(ctx, 10, noDeliveries); err != nil || n != 1 {
		t.Fatalf("fan-out took %d, %v; want the committed event", n, err)
	}
	read, err := db.PublishedEvents(ctx, 0, 10)
	if err != nil || len(read) != 1 || read[0].ID != ev.ID || read[0].Seq != 1 {
		t.Fatalf("first read %+v, %v", read, err)
	}
	var fastPos int64
	if err := db.Pool().QueryRow(ctx, `SELECT position FROM outbox_events WHERE id = $1`, ev.ID).Scan(&fastPos); err != nil {
		t.Fatal(err)
	}
	if slowPos >= fastPos {
		t.Fatalf("positions %d and %d: the test needs the late commit to hold the lower position", slowPos, fastPos)
	}

	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.WebhookQueue().FanOut(ctx, 10, noDeliveries); err != nil || n != 1 {
		t.Fatalf("second fan-out took %d, %v", n, err)
	}
	read, err = db.PublishedEvents(ctx, read[0].Seq, 10)
	if err != nil || len(read) != 1 || read[0].ID != "evt_slow" || read[0].Seq != 2 {
		t.Fatalf("read after %d: %+v, %v; want the late commit", 1, read, err)
	}
}

// Writers on two instances change incidents while both fan out and a
// reader tails publish_seq: the reader sees every event once, numbers
// without gaps, and each incident's events in their sequence order.
func TestTailingUnderConcurrentWritersAndPublishers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := withOrg(t)
	handles := []database{first, open(t, first.url)}
	const incidents, updates = 6, 5
	var writers, publishers sync.WaitGroup
	for i := range incidents {
		st := handles[i%2].IncidentStore()
		writers.Go(func() {
			inc, ev := newIncident(fmt.Sprintf("inc_%016d", i))
			if _, _, err := st.CreateIncident(ctx, inc, ev); err != nil {
				t.Error(err)
				return
			}
			for range updates {
				_, err := st.UpdateIncident(ctx, tenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
					cur.Sequence++
					return incident.Effects{Events: []outbox.Event{event(cur)}}, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	for i := range 4 {
		q := handles[i%2].WebhookQueue()
		publishers.Go(func() {
			for {
				finished := false
				select {
				case <-done:
					finished = true
				default:
				}
				n, err := q.FanOut(ctx, 3, noDeliveries)
				if err != nil {
					t.Error(err)
					return
				}
				if finished && n == 0 { // every write committed before this fan-out
					return
				}
			}
		})
	}
	go func() { writers.Wait(); close(done) }()

	const total = incidents * (updates + 1)
	var cursor int64
	last := map[string]int64{}
	deadline := time.Now().Add(time.Minute)
	for cursor < total && time.Now().Before(deadline) {
		read, err := handles[1].PublishedEvents(ctx, cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range read {
			if ev.Seq != cursor+1 {
				t.Fatalf("read publish_seq %d after %d: a gap", ev.Seq, cursor)
			}
			if ev.Sequence != last[ev.SubjectID]+1 {
				t.Fatalf("%s: sequence %d after %d", ev.SubjectID, ev.Sequence, last[ev.SubjectID])
			}
			cursor, last[ev.SubjectID] = ev.Seq, ev.Sequence
		}
		if len(read) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	publishers.Wait()
	if cursor != total {
		t.Fatalf("read %d events, want %d", cursor, total)
	}
}
