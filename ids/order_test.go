package ids

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Ids sort by the millisecond they were made in, whatever their random
// part, and carry that millisecond in their first characters.
func TestIDsSortByCreation(t *testing.T) {
	start := time.Date(2026, 11, 27, 19, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 2000 {
		at := start.Add(time.Duration(i) * time.Millisecond)
		id := newAt("inc", at)
		if !Valid("inc", id) {
			t.Fatalf("newAt made %q, not a valid inc id", id)
		}
		if id <= prev {
			t.Fatalf("%q (made at %v) does not sort after %q, made a millisecond before", id, at, prev)
		}
		ms, err := strconv.ParseInt(id[len("inc_"):len("inc_")+timeChars], 36, 64)
		if err != nil || ms != at.UnixMilli() {
			t.Fatalf("%q carries millisecond %d (%v), want %d", id, ms, err, at.UnixMilli())
		}
		prev = id
	}
	// Within one millisecond the random part tells ids apart.
	a, b := newAt("inc", start), newAt("inc", start)
	if a == b || !strings.HasPrefix(b, a[:len("inc_")+timeChars]) {
		t.Fatalf("two ids of one millisecond: %q and %q", a, b)
	}
	// The eight characters last until 2059.
	if late := newAt("inc", time.Date(2059, 1, 1, 0, 0, 0, 0, time.UTC)); !Valid("inc", late) || late <= prev {
		t.Fatalf("an id of 2059: %q", late)
	}
}
