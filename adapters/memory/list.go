package memory

import (
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
)

// owned is a stored value that belongs to one tenant.
type owned interface{ Tenant() auth.Tenant }

// lookup returns the tenant's value id of m; a missing one, or one of
// another tenant, is notFound. Callers hold mu.
func lookup[V owned](m map[string]V, tenant auth.Tenant, id string, notFound error) (V, error) {
	v, ok := m[id]
	if !ok || v.Tenant() != tenant {
		var zero V
		return zero, notFound
	}
	return v, nil
}

// matching returns the values of m that keep accepts, in no order.
func matching[K comparable, V any](m map[K]V, keep func(V) bool) []V {
	var out []V
	for _, v := range m {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// page sorts items by cmp and returns copies of those in [offset,
// offset+limit), and how many items there are in all.
func page[T any](items []T, cmp func(a, b T) int, offset, limit int, clone func(T) T) ([]T, int) {
	slices.SortFunc(items, cmp)
	total := len(items)
	start := min(offset, total)
	end := min(start+limit, total)
	out := make([]T, 0, end-start)
	for _, v := range items[start:end] {
		out = append(out, clone(v))
	}
	return out, total
}

// first returns copies of the first limit items in the order cmp sets. It
// keeps only the limit best while it scans (insertion into a short sorted
// slice), so a long list costs a pass, not a sort: the dispatch queue asks
// for 20 of thousands.
func first[T any](items []T, cmp func(a, b T) int, limit int, clone func(T) T) []T {
	best := make([]T, 0, min(limit, len(items)))
	for _, v := range items {
		if len(best) == limit && cmp(v, best[len(best)-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, v, cmp)
		if len(best) == limit {
			best = best[:len(best)-1]
		}
		best = slices.Insert(best, i, v)
	}
	for i, v := range best {
		best[i] = clone(v)
	}
	return best
}

// oldestFirst orders values by the time key gives, then by their id, as
// the SQL adapters' "ORDER BY at, id".
func oldestFirst[T any](key func(T) (time.Time, string)) func(a, b T) int {
	return func(a, b T) int {
		at, aid := key(a)
		bt, bid := key(b)
		if c := at.Compare(bt); c != 0 {
			return c
		}
		return strings.Compare(aid, bid)
	}
}

// newestFirst is the reverse of oldestFirst: "ORDER BY at DESC, id DESC".
func newestFirst[T any](key func(T) (time.Time, string)) func(a, b T) int {
	asc := oldestFirst(key)
	return func(a, b T) int { return asc(b, a) }
}
