package sqlite

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sety-io/sety/incident"
)

// TestConcurrentGetsSeeEveryAcknowledgedChange: gets from many goroutines,
// alone or sharing checks (a round that ran alone is reused by the next),
// while another handle (another process) changes the incident again and
// again: every get shows the incident at least as new as the last change
// acknowledged before the get began. Every 32nd get has a change made and
// waits for it, so that between changes the gets answer from the kept
// incident. Run with -race.
func TestConcurrentGetsSeeEveryAcknowledgedChange(t *testing.T) {
	ctx := context.Background()
	db, other := openPair(t)
	inc := createTest(t, db, 1)
	peekOf(t, db, inc.ID)
	var acked atomic.Int64 // the last change the other handle's writer acknowledged
	var gets atomic.Int64
	tick, done := make(chan struct{}), make(chan struct{}) // every 32nd get asks for a change and waits for it
	stop := make(chan struct{})
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for n := int64(1); ; n++ {
			select {
			case <-stop:
				return
			case <-tick:
			}
			retitle(t, other, inc.ID, "Change "+strconv.FormatInt(n, 10))
			acked.Store(n)
			done <- struct{}{}
		}
	}()
	reader := db.IncidentStore().(incident.SharedReader)
	var checks atomic.Int64
	db.stamps.afterRead = func() { checks.Add(1) }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 300 {
				before := acked.Load()
				got, err := reader.PeekIncident(ctx, testTenant, inc.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if n := changeNumber(got.Title); n < before {
					t.Errorf("a get that began after change %d shows %q", before, got.Title)
					return
				}
				if gets.Add(1)%32 == 0 {
					tick <- struct{}{}
					<-done
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-writer
	t.Logf("%d changes, %d stamp checks", acked.Load(), checks.Load())
	if acked.Load() == 0 {
		t.Fatal("no change was made while the gets ran")
	}
}

// changeNumber is n of a title "Change n" (0 for any other title).
func changeNumber(title string) int64 {
	n := int64(0)
	if s, ok := strings.CutPrefix(title, "Change "); ok {
		n, _ = strconv.ParseInt(s, 10, 64)
	}
	return n
}
