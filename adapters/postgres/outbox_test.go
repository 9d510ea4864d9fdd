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

// Writers on two instances change incidents while both fan out and a
// reader follows the log: it sees every event once, in increasing
// positions, and each incident's events in their sequence order. Were
// positions drawn at insert rather than in commit order, the reader would
// pass events that commit after a higher position it already read.
func TestFollowingTheLogUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := withOrg(t)
	handles := []database{first, open(t, first.url)}
	const incidents, updates = 8, 6
	var writers, publishers sync.WaitGroup
	for i := range incidents {
		st := handles[i%2].IncidentStore()
		writers.Go(func() {
			inc, ev := newIncident(fmt.Sprintf("inc_%016d", i))
			if _, _, err := st.CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
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
	for i := range 2 {
		q := handles[i%2].WebhookQueue()
		publishers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := q.FanOut(ctx, 3, noDeliveries); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	go func() { writers.Wait(); close(done) }()

	const total = incidents * (updates + 1)
	var cursor int64
	read := 0
	last := map[string]int64{}
	log := handles[1].EventLog()
	for deadline := time.Now().Add(time.Minute); read < total && time.Now().Before(deadline); {
		events, next, err := log.EventsAfter(ctx, cursor, outbox.Filter{}, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Position <= cursor {
				t.Fatalf("position %d after %d", ev.Position, cursor)
			}
			if ev.Sequence != last[ev.SubjectID]+1 {
				t.Fatalf("%s: sequence %d after %d: an event was skipped", ev.SubjectID, ev.Sequence, last[ev.SubjectID])
			}
			cursor, last[ev.SubjectID] = ev.Position, ev.Sequence
			read++
		}
		if next < cursor {
			t.Fatalf("next %d before the last position read %d", next, cursor)
		}
		cursor = next
		if len(events) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	publishers.Wait()
	if read != total {
		t.Fatalf("followed %d events, want %d", read, total)
	}
	if head, err := log.Head(ctx); err != nil || head != cursor {
		t.Fatalf("head %d (%v), want the last position read %d", head, err, cursor)
	}
}
