package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// keyUses gathers the keys' last uses between two flushes
// (Service.FlushLastUsed). A key found in the cache records its use in its
// cache entry, with atomics only: every request of a key once wrote its
// last use in one map under one mutex (a map assignment, hashing the key
// id, on every request of every tenant). An entry is queued for the next
// flush once per flush (its noted epoch); the flush reads what the
// entries queued since the last one hold. A key read from the store and
// not cached (the cache is off) writes the map, as before.
//
// A use recorded while a flush runs is written by that flush or the next:
// the flush moves to a new epoch before it reads the entries, so a request
// that saw the old epoch (and queued nothing, its entry being queued
// already) stored its use before the flush reads it.
type keyUses struct {
	epoch atomic.Uint64 // of the flush under way; entries hold the one they were queued in

	mu      sync.Mutex
	pending []*cachedKey         // entries used since the last flush
	used    map[string]time.Time // key id -> last use: uncached keys, and what a failed flush kept
}

// recordCached records a use at now of the key of cache entry e.
func (u *keyUses) recordCached(e *cachedKey, now time.Time) {
	ms := now.UnixMilli()
	for {
		last := e.lastUse.Load()
		if ms <= last || e.lastUse.CompareAndSwap(last, ms) {
			break
		}
	}
	epoch := u.epoch.Load() + 1 // never 0, the epoch of an entry never queued
	if e.noted.Load() != epoch && e.noted.Swap(epoch) != epoch {
		u.mu.Lock()
		if len(u.pending) >= maxPendingUses {
			u.foldLocked()
		}
		u.pending = append(u.pending, e)
		u.mu.Unlock()
	}
}

// maxPendingUses bounds the entries queued between two flushes. A cache
// entry is replaced every KeyCacheTTL, so without flushes (a host that
// never runs the service) the queue would grow by one entry per key and
// TTL; past the bound the queue is folded into the map, one line per key.
const maxPendingUses = 1 << 14

// foldLocked moves the queued entries' uses into the map and starts the
// next epoch, so that their later uses queue them again; u.mu is held.
// The epoch moves before the entries are read, as in take.
func (u *keyUses) foldLocked() {
	u.epoch.Add(1)
	if u.used == nil {
		u.used = map[string]time.Time{}
	}
	for _, e := range u.pending {
		if at := time.UnixMilli(e.lastUse.Load()).UTC(); at.After(u.used[e.p.KeyID]) {
			u.used[e.p.KeyID] = at
		}
	}
	clear(u.pending)
	u.pending = u.pending[:0]
}

// record records a use at now of the key id.
func (u *keyUses) record(id string, now time.Time) {
	at := now.UTC().Truncate(time.Millisecond)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.used == nil {
		u.used = map[string]time.Time{}
	}
	if at.After(u.used[id]) {
		u.used[id] = at
	}
}

// take returns the last use of every key used since the last take, and
// starts the next epoch.
func (u *keyUses) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.foldLocked()
	used := u.used
	u.used = nil
	return used
}

// keep puts back uses a flush could not write, for the next.
func (u *keyUses) keep(used map[string]time.Time) {
	for id, at := range used {
		u.record(id, at)
	}
}
