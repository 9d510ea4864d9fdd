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

// page returns copies of the items in [offset, offset+limit) of the order
// cmp sets, and how many items there are in all. Only the first
// offset+limit are put in order (see best), so the newest page of a long
// list costs a pass over it, not a sort: lists run under the store's lock.
func page[T any](items []T, cmp func(a, b T) int, offset, limit int, clone func(T) T) ([]T, int) {
	total := len(items)
	start := min(offset, total)
	top := best(items, cmp, start+min(limit, total-start))
	out := make([]T, 0, len(top)-start)
	for _, v := range top[start:] {
		out = append(out, clone(v))
	}
	return out, total
}

// first returns copies of the first limit items in the order cmp sets: the
// dispatch queue asks for 20 of thousands.
func first[T any](items []T, cmp func(a, b T) int, limit int, clone func(T) T) []T {
	top := best(items, cmp, limit)
	for i, v := range top {
		top[i] = clone(v)
	}
	return top
}

// best returns the first n items in the order cmp sets, in order. For a
// few of many it keeps only the n best while it scans (insertion into a
// short sorted slice); for a large share of the items it sorts them (in
// place) instead.
func best[T any](items []T, cmp func(a, b T) int, n int) []T {
	n = max(0, min(n, len(items)))
	if n == 0 {
		return nil
	}
	if n*8 >= len(items) {
		slices.SortFunc(items, cmp)
		return slices.Clone(items[:n])
	}
	top := make([]T, 0, n)
	for _, v := range items {
		if len(top) == n && cmp(v, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, v, cmp)
		if len(top) == n {
			top = top[:n-1]
		}
		top = slices.Insert(top, i, v)
	}
	return top
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
