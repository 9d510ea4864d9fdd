package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.KeyCacheTTL and Config.KeyCacheSize.
const (
	DefaultKeyCacheTTL  = 10 * time.Second
	DefaultKeyCacheSize = 10000
)

// keyCache remembers, by key hash, the principals of keys that
// authenticated, so a request with a known key reads nothing from the
// store. Only keys that passed every check are kept: an unknown, revoked or
// expired key, or one of a suspended organization, is looked up again each
// time, so nobody fills the cache without holding valid keys. An entry is
// trusted for ttl after its read; the key's expiry is kept with it and
// checked on every request.
//
// A revocation or a status change made through this process drops the
// entries concerned at once, and a read that was under way then does not
// put its (older) answer back: every drop bumps gen, and put refuses an
// answer read under an older gen.
type keyCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	gen     uint64
	entries map[[sha256.Size]byte]*cachedKey
}

// cachedKey is one key's entry. Its principal is never changed once
// cached (requests copy it); only the record of use moves.
type cachedKey struct {
	p       Principal
	expires time.Time // the key's expires_at; zero: never
	until   time.Time // trusted until then

	// lastUse is the latest use of the key through this entry, in Unix
	// milliseconds, for the next FlushLastUsed; noted is the flush epoch
	// in which the entry was last queued for it (keyUses).
	lastUse atomic.Int64
	noted   atomic.Uint64
}

func newKeyCache(ttl time.Duration, size int) *keyCache {
	if ttl == 0 {
		ttl = DefaultKeyCacheTTL
	}
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	if ttl < 0 {
		return nil // no cache
	}
	return &keyCache{ttl: ttl, max: size, entries: map[[sha256.Size]byte]*cachedKey{}}
}

// get returns the cached entry of hash if it is still trusted at now.
func (c *keyCache) get(hash [sha256.Size]byte, now time.Time) (*cachedKey, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e, true
}

// generation is what put needs to know that nothing was dropped since the
// read it caches began.
func (c *keyCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches p for the key hash, read from the store at now under
// generation gen, unless something was dropped since. It returns the
// entry (nil: not cached).
func (c *keyCache) put(hash [sha256.Size]byte, p *Principal, expires, now time.Time, gen uint64) *cachedKey {
	if c == nil {
		return nil
	}
	e := &cachedKey{p: *p, expires: expires, until: now.Add(c.ttl)}
	e.p.Scopes = slices.Clone(p.Scopes)
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return nil
	}
	if _, ok := c.entries[hash]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[hash] = e
	return e
}

// evict makes room for one entry: it drops the entries no longer trusted,
// or else one entry (the map's iteration order picks it at random).
func (c *keyCache) evict(now time.Time) {
	for h, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, h)
		}
	}
	for h := range c.entries {
		if len(c.entries) < c.max {
			return
		}
		delete(c.entries, h)
	}
}

// drop removes every entry match selects.
func (c *keyCache) drop(match func(*Principal) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if match(&e.p) {
			delete(c.entries, h)
		}
	}
}

// len is the number of entries, for tests.
func (c *keyCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
