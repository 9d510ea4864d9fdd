package auth

import (
	"fmt"
	"testing"
	"time"
)

// Without flushes, the queue of used cache entries stays bounded (each key's
// entry is replaced every TTL), and no use is lost when it is folded.
func TestKeyUsesStayBoundedWithoutFlushes(t *testing.T) {
	var u keyUses
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	const keys = 100
	for replaced := range 3 * maxPendingUses / keys {
		for k := range keys {
			e := &cachedKey{p: Principal{KeyID: fmt.Sprint("key_", k)}} // a new entry per TTL
			u.recordCached(e, at.Add(time.Duration(replaced)*time.Millisecond))
		}
	}
	if len(u.pending) > maxPendingUses {
		t.Fatalf("%d entries queued, want at most %d", len(u.pending), maxPendingUses)
	}
	used := u.take()
	last := at.Add(time.Duration(3*maxPendingUses/keys-1) * time.Millisecond)
	if len(used) != keys || !used["key_7"].Equal(last) {
		t.Fatalf("%d keys used, key_7 at %v; want %d and %v", len(used), used["key_7"], keys, last)
	}
}
