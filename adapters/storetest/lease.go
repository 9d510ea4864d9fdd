package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testLeases checks incident.Store.Lease over the handles: a free lease
// goes to its first taker, its owner renews it, nobody else takes it
// before it expires, anyone may after, an owner gives it up by taking it
// until now, leases of other names are apart, and of concurrent takers of
// a free lease through every handle exactly one wins.
func testLeases(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st := func(i int) interface {
		Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
	} {
		return handles[i%len(handles)].IncidentStore()
	}
	take := func(i int, name, owner string, now, until time.Time) bool {
		t.Helper()
		held, err := st(i).Lease(ctx, name, owner, now, until)
		must(t, err)
		return held
	}
	minute := base.Add(time.Minute)
	steps := []struct {
		what        string
		name, owner string
		now, until  time.Time
		want        bool
	}{
		{"a free lease goes to its first taker", "sweep", "a", base, minute, true},
		{"nobody else takes it before it expires", "sweep", "b", base.Add(30 * time.Second), minute, false},
		{"its owner renews it", "sweep", "a", base.Add(30 * time.Second), base.Add(2 * time.Minute), true},
		{"the renewal counts", "sweep", "b", minute.Add(time.Second), base.Add(3 * time.Minute), false},
		{"another name is another lease", "other", "b", base, minute, true},
		{"an expired lease goes to anyone", "sweep", "b", base.Add(2 * time.Minute), base.Add(3 * time.Minute), true},
		{"the old owner no longer has it", "sweep", "a", base.Add(2 * time.Minute), base.Add(3 * time.Minute), false},
		{"its owner gives it up by taking it until now", "sweep", "b", base.Add(150 * time.Second), base.Add(150 * time.Second), true},
		{"then it is free at once", "sweep", "a", base.Add(150 * time.Second), base.Add(4 * time.Minute), true},
	}
	for i, s := range steps {
		if got := take(i, s.name, s.owner, s.now, s.until); got != s.want {
			t.Fatalf("%s: Lease(%s, %s) = %v, want %v", s.what, s.name, s.owner, got, s.want)
		}
	}
	// Concurrent takers of a free lease: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 16 {
		wg.Go(func() {
			held, err := st(i).Lease(ctx, "race", fmt.Sprintf("owner-%d", i), base, minute)
			if err != nil {
				t.Error(err)
				return
			}
			if held {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d of 16 concurrent takers hold one lease, want 1", winners)
	}
}
