package ids

import (
	"crypto/rand"
	"fmt"
	"sync"
)

// Generator returns a new id with the given prefix ("inc" gives "inc_...").
type Generator func(prefix string) string

const (
	alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	// Length is the number of random characters after the prefix.
	Length = 16
)

// New returns prefix + "_" + 16 random base-36 characters from crypto/rand.
// Bytes at or above 252 are rejected so every character is equally likely.
func New(prefix string) string {
	out := make([]byte, 0, len(prefix)+1+Length)
	out = append(out, prefix...)
	out = append(out, '_')
	var buf [32]byte
	for len(out) < len(prefix)+1+Length {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("ids: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported platforms
		}
		for _, b := range buf {
			if b >= 252 {
				continue
			}
			out = append(out, alphabet[b%36])
			if len(out) == cap(out) {
				break
			}
		}
	}
	return string(out)
}

// Sequential returns a generator of predictable ids for tests:
// "inc_0000000000000001", "inc_0000000000000002", ... (one counter for all prefixes).
func Sequential() Generator {
	var mu sync.Mutex
	n := 0
	return func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s_%016d", prefix, n)
	}
}

// Valid reports whether id has the given prefix and the Sety id shape.
// Handlers use it to turn a malformed id into a plain 404 without a look-up.
func Valid(prefix, id string) bool {
	if len(id) != len(prefix)+1+Length || id[:len(prefix)] != prefix || id[len(prefix)] != '_' {
		return false
	}
	for _, c := range id[len(prefix)+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
