// Package jsonmutate makes hostile variants of a JSON body for tests that
// hold a fast decoder to the slow one it stands in for: a few bytes of the
// body changed, dropped or repeated, anywhere, so the variants cover
// broken syntax, wrong types and odd values near a valid body.
package jsonmutate

import "math/rand/v2"

// Mutate returns a copy of body with one to three mutations: a byte
// replaced by one of alphabet, dropped, or repeated.
func Mutate(rnd *rand.Rand, body, alphabet string) []byte {
	b := []byte(body)
	for range 1 + rnd.IntN(3) {
		i := rnd.IntN(len(b))
		switch rnd.IntN(3) {
		case 0:
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i+1], b[i:]...)
		}
	}
	return b
}
