// Package clone holds the copying the domain types' Clone methods share,
// so that incident and webhook deep-copy optional fields the same way.
package clone

// Ptr returns a pointer to a copy of *p, or nil for nil: an optional field
// of a clone must not point at the original's value.
func Ptr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
