package gcheadroom

import (
	"context"
	"runtime/debug"
	"slices"
	"testing"
)

func TestPercentLeavesHeadroomWithinBounds(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, MaxPercent},
		{1 << 20, MaxPercent},   // 64 MiB of room would be 6,400 %
		{16 << 20, 400},         // exactly 64 MiB of room
		{32 << 20, 200},         // 64 MiB of room
		{48 << 20, 133},         // 64 MiB of room, rounded down
		{64 << 20, 100},         // Go's default from here on
		{1 << 30, 100},          // a large heap runs as Go's default
		{^uint64(0) / 200, 100}, // no overflow
	} {
		if got := Percent(c.live); got != c.want {
			t.Errorf("Percent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

func TestTheFollowerSetsThePercentOnlyWhenTheLiveHeapAsksForAnother(t *testing.T) {
	live := uint64(8 << 20)
	var sets []int
	percent := 100
	f := &follower{live: func() uint64 { return live }, setPercent: func(p int) int {
		sets = append(sets, p)
		before := percent
		percent = p
		return before
	}}
	if before := f.start(); before != 100 || percent != 400 {
		t.Fatalf("start: before %d, percent %d; want 100 and 400", before, percent)
	}
	f.step() // the same heap: nothing to set
	live = 32 << 20
	f.step()
	live = 1 << 30
	f.step()
	f.step()
	if want := []int{400, 200, 100}; !slices.Equal(sets, want) {
		t.Fatalf("set %v, want %v", sets, want)
	}
}

func TestStartLeavesTheCollectorAloneWhenTheOperatorChose(t *testing.T) {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		env := map[string]string{name: "150"}
		if Start(context.Background(), func(k string) string { return env[k] }) != nil {
			t.Fatalf("Start took charge with %s set", name)
		}
	}
}

func TestStartTakesChargeAndPutsGosPercentBack(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := Start(ctx, func(string) string { return "" })
	if stopped == nil {
		t.Fatal("Start did not take charge with neither GOGC nor GOMEMLIMIT set")
	}
	// A test binary's live heap is far below 16 MiB: the percentage is
	// the most Start sets.
	if live := liveHeap(); live >= Headroom/4 {
		t.Skipf("live heap %d bytes: too large for this test", live)
	}
	if p := debug.SetGCPercent(MaxPercent); p != MaxPercent {
		t.Fatalf("percent while in charge %d, want %d", p, MaxPercent)
	}
	cancel()
	<-stopped
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("percent after ctx ended %d, want Go's 100 back", p)
	}
}
