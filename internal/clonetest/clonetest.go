// Package clonetest checks that a Clone method copies deeply, so that a
// field added later without a line in Clone fails a test instead of
// letting an adapter share memory with its callers.
package clonetest

import (
	"reflect"
	"testing"
)

// Check fills a value of type T with non-zero data in every field, clones
// it with clone, and fails t if the clone differs from the original or
// shares any pointer, slice or map with it.
func Check[T any](t *testing.T, clone func(*T) *T) {
	t.Helper()
	orig := new(T)
	fill(reflect.ValueOf(orig).Elem(), 0)
	got := clone(orig)
	if !reflect.DeepEqual(orig, got) {
		t.Fatalf("clone differs from the original:\n got %+v\nwant %+v", got, orig)
	}
	if path := shared(reflect.ValueOf(orig).Elem(), reflect.ValueOf(got).Elem(), reflect.TypeFor[T]().Name()); path != "" {
		t.Fatalf("clone shares %s with the original: add it to Clone", path)
	}
}

// fill sets every settable field of v to a non-zero value.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// shared returns the path of the first pointer, slice or map a and b have
// in common, or "".
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if p := shared(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+f.Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}
