package sqlite

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// An event's delta rebuilds its data from the data of an earlier event
// (its base): the incident of a create's incident.dispatching is the
// incident of its incident.created with a few fields changed and a
// timeline entry added, so a few copies of the base's bytes and a few
// literal bytes say it in a fifth of the space. It is bytes, not JSON:
// what a reader gets back is the event's data exactly as it was written.
//
// A delta is the target's length (uvarint), then operations until its end:
//
//	uvarint(n<<1)   then n literal bytes
//	uvarint(n<<1|1) then uvarint(offset): n bytes of the base from offset

const (
	deltaWindow  = 8  // bytes a match is looked up by
	deltaStep    = 4  // the base is indexed every deltaStep bytes: any common run of 11 bytes is found
	deltaMinCopy = 16 // shorter matches stay literal: a copy costs up to 6 bytes
	deltaBits    = 12 // the hash table of the base's windows has 1<<deltaBits slots
)

// deltaOf returns the delta that rebuilds target from base, or nil when it
// would not be under half of target's size (then the target is stored as
// it is). It finds matches greedily through a hash of base's windows,
// extending each forwards and backwards.
func deltaOf(base, target []byte) []byte {
	if len(base) < deltaWindow || len(target) < 2*deltaMinCopy {
		return nil
	}
	var table [1 << deltaBits]int32 // a base position + 1 by its window's hash; 0: none
	for i := 0; i+deltaWindow <= len(base); i += deltaStep {
		h := windowHash(base[i:])
		if table[h] == 0 {
			table[h] = int32(i + 1)
		}
	}
	out := binary.AppendUvarint(make([]byte, 0, len(target)/4), uint64(len(target)))
	limit := len(target) / 2
	lit := 0 // target[lit:i] is not yet written
	for i := 0; i+deltaWindow <= len(target); {
		j := int(table[windowHash(target[i:])]) - 1
		if j < 0 {
			i++
			continue
		}
		end := i + commonPrefix(target[i:], base[j:])
		if end-i < deltaWindow {
			i++
			continue
		}
		start, from := i, j
		for start > lit && from > 0 && target[start-1] == base[from-1] {
			start, from = start-1, from-1
		}
		if end-start < deltaMinCopy {
			i++
			continue
		}
		out = appendLiteral(out, target[lit:start])
		out = binary.AppendUvarint(out, uint64(end-start)<<1|1)
		out = binary.AppendUvarint(out, uint64(from))
		if len(out) > limit {
			return nil
		}
		i, lit = end, end
	}
	out = appendLiteral(out, target[lit:])
	if len(out) > limit {
		return nil
	}
	return out
}

// commonPrefix returns how many leading bytes a and b share, comparing
// eight at a time: a match runs over hundreds of bytes.
func commonPrefix(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		if x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		a, b, n = a[8:], b[8:], n+8
	}
	for n2 := range min(len(a), len(b)) {
		if a[n2] != b[n2] {
			return n + n2
		}
	}
	return n + min(len(a), len(b))
}

func windowHash(b []byte) uint64 {
	return (binary.LittleEndian.Uint64(b) * 0x9E3779B97F4A7C15) >> (64 - deltaBits)
}

func appendLiteral(out, lit []byte) []byte {
	if len(lit) == 0 {
		return out
	}
	return append(binary.AppendUvarint(out, uint64(len(lit))<<1), lit...)
}

var errBadDelta = errors.New("sqlite: an event's delta does not fit its base")

// applyDelta rebuilds the target of delta from base. A delta that does not
// fit (damaged, or of another base) is an error, never a wrong answer: its
// operations must stay within base and delta and make exactly the length
// it names.
func applyDelta(base, delta []byte) ([]byte, error) {
	size, n := binary.Uvarint(delta)
	if n <= 0 {
		return nil, errBadDelta
	}
	out := make([]byte, 0, min(size, 1<<20)) // a damaged size allocates no more than that

	for d := delta[n:]; len(d) > 0; {
		op, n := binary.Uvarint(d)
		if n <= 0 {
			return nil, errBadDelta
		}
		d = d[n:]
		length := op >> 1
		if length > size-uint64(len(out)) {
			return nil, errBadDelta
		}
		if op&1 == 0 {
			if length > uint64(len(d)) {
				return nil, errBadDelta
			}
			out, d = append(out, d[:length]...), d[length:]
			continue
		}
		from, n := binary.Uvarint(d)
		if n <= 0 || from > uint64(len(base)) || length > uint64(len(base))-from {
			return nil, errBadDelta
		}
		out, d = append(out, base[from:from+length]...), d[n:]
	}
	if uint64(len(out)) != size {
		return nil, errBadDelta
	}
	return out, nil
}
