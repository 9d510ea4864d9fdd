package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// keyPrefix returns the visible prefix of keys of environment e.
func keyPrefix(e Environment) string { return "sety_" + string(e) + "_" }

const keySecretLen = 32 // lowercase hex characters: 128 bits

// newSecret returns a fresh key for environment e: sety_<env>_ + 32 hex chars.
func newSecret(e Environment) string {
	var b [keySecretLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return keyPrefix(e) + hex.EncodeToString(b[:])
}

// parseKey reports the environment of a well-formed key, or false.
func parseKey(raw string) (Environment, bool) {
	for _, e := range []Environment{Live, Test} {
		rest, ok := strings.CutPrefix(raw, keyPrefix(e))
		if !ok {
			continue
		}
		if len(rest) != keySecretLen {
			return "", false
		}
		for _, c := range rest {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", false
			}
		}
		return e, true
	}
	return "", false
}

// HashKey returns the SHA-256 of a key, the only form of it that is stored.
// SHA-256 without salt is enough: keys carry 128 random bits, so there is
// nothing to brute-force and no dictionary to precompute.
func HashKey(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// displayPrefix is the part of a key shown in listings: "sety_test_3fa9".
func displayPrefix(raw string) string { return raw[:14] }
