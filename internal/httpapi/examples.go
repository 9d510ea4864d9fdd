package httpapi

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// metaExample is the operation metadata key of Meta.Example.
const metaExample = "sety.example"

// exampleOverrides are the fields of an operation's metadata laid over the
// examples of its responses, by status (see [Meta.Example]).
func exampleOverrides(meta map[string]any) map[int]map[string]any {
	overrides, _ := meta[metaExample].(map[int]map[string]any)
	return overrides
}

// Examples are fields laid over the example composed for a schema, by
// schema name, where the examples of its properties alone would make an
// impossible object (a created incident with a resolution).
type Examples map[string]map[string]any

// addExamples gives every request body and success response of Sety's
// operations an example, composed from the examples of its schema's
// properties (see [Examples.Of]), with an operation's [Meta.Example] fields
// laid over it.
func addExamples(oapi *huma.OpenAPI, ex Examples) {
	reg := oapi.Components.Schemas
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if !IsSety(op) {
				continue
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil && mt.Example == nil {
					mt.Example = ex.Of(reg, mt.Schema)
				}
			}
			overrides := exampleOverrides(op.Metadata)
			for code, r := range op.Responses {
				status, _ := strconv.Atoi(code)
				if status >= 400 && overrides[status] == nil {
					continue
				}
				for ct, mt := range r.Content { // JSON, and JSON-based media types such as application/geo+json
					if ct != "application/json" && !strings.HasSuffix(ct, "+json") || mt.Example != nil {
						continue
					}
					v := ex.Of(reg, mt.Schema)
					if obj, ok := v.(map[string]any); ok && overrides[status] != nil && ct == "application/json" {
						maps.Copy(obj, overrides[status])
					}
					mt.Example = v
				}
			}
		}
	}
}

// Of composes an example value of s: the first of each property's
// examples (or its default, or its first enum value) down through
// references, with ex's fields laid over each schema's; a type's plain
// value where nothing is given. An optional scalar or array property with no example
// of its own is left out.
func (ex Examples) Of(reg huma.Registry, s *huma.Schema) any {
	return ex.example(reg, s, 0)
}

func (ex Examples) example(reg huma.Registry, s *huma.Schema, depth int) any {
	if s == nil || depth > 12 {
		return nil
	}
	if s.Ref != "" {
		v := ex.example(reg, reg.SchemaFromRef(s.Ref), depth+1)
		if obj, ok := v.(map[string]any); ok {
			maps.Copy(obj, ex[exampleName(reg, s.Ref)])
		}
		return v
	}
	switch {
	case len(s.Examples) > 0:
		return s.Examples[0]
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		obj := map[string]any{}
		for _, part := range s.AllOf {
			if m, ok := ex.example(reg, part, depth+1).(map[string]any); ok {
				maps.Copy(obj, m)
			}
		}
		return obj
	}
	for _, alts := range [][]*huma.Schema{s.AnyOf, s.OneOf} {
		for _, alt := range alts {
			if alt.Type != "null" {
				return ex.example(reg, alt, depth+1)
			}
		}
	}
	switch s.Type {
	case huma.TypeObject:
		obj := map[string]any{}
		for name, p := range s.Properties {
			if !slices.Contains(s.Required, name) && p.Ref == "" && p.Type != huma.TypeObject &&
				len(p.Examples) == 0 && p.Default == nil && len(p.Enum) == 0 {
				continue
			}
			obj[name] = ex.example(reg, p, depth+1)
		}
		if extra, ok := s.AdditionalProperties.(*huma.Schema); ok && len(s.Properties) == 0 {
			obj["key"] = ex.example(reg, extra, depth+1)
		}
		return obj
	case huma.TypeArray:
		n := 1
		if s.MinItems != nil && *s.MinItems > n {
			n = *s.MinItems
		}
		items := make([]any, n)
		for i := range items {
			items[i] = ex.example(reg, s.Items, depth+1)
		}
		return items
	case huma.TypeString:
		switch s.Format {
		case "date-time":
			return "2026-03-10T14:22:05.412Z"
		case "date":
			return "2026-03-10"
		}
		if s.MinLength != nil && *s.MinLength > 4 {
			return strings.Repeat("x", *s.MinLength)
		}
		return "text"
	case huma.TypeInteger, huma.TypeNumber:
		if s.Minimum != nil {
			if s.Type == huma.TypeInteger {
				return int(*s.Minimum)
			}
			return *s.Minimum
		}
		return 0
	case huma.TypeBoolean:
		return false
	}
	return nil
}

// exampleName is the name Examples knows a referenced schema by: its Go
// type's name as huma's default namer gives it, whatever prefix the
// registry's own namer adds (sety.WithNamePrefix).
func exampleName(reg huma.Registry, ref string) string {
	if t := reg.TypeFromRef(ref); t != nil {
		return huma.DefaultSchemaNamer(t, "")
	}
	return ref[strings.LastIndex(ref, "/")+1:]
}
