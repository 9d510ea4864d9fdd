package httpapi

import (
	"maps"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// metaExample is the operation metadata key of Spec.Example.
const metaExample = "sety.example"

// addExamples gives every request body and success response of Sety's
// operations an example, composed from the examples of its schema's
// properties (see [ExampleOf]), with an operation's Spec.Example fields
// laid over it.
func addExamples(oapi *huma.OpenAPI) {
	reg := oapi.Components.Schemas
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if !IsSety(op) {
				continue
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil && mt.Example == nil {
					mt.Example = ExampleOf(reg, mt.Schema)
				}
			}
			overrides, _ := op.Metadata[metaExample].(map[int]map[string]any)
			for code, r := range op.Responses {
				status, _ := strconv.Atoi(code)
				if status >= 400 && overrides[status] == nil {
					continue
				}
				if mt := r.Content["application/json"]; mt != nil && mt.Example == nil {
					ex := ExampleOf(reg, mt.Schema)
					if obj, ok := ex.(map[string]any); ok && overrides[status] != nil {
						maps.Copy(obj, overrides[status])
					}
					mt.Example = ex
				}
			}
		}
	}
}

// ExampleOf composes an example value of s: the first of each property's
// examples (or its default, or its first enum value), for every property,
// down through references; a type's plain value where nothing is given.
func ExampleOf(reg huma.Registry, s *huma.Schema) any {
	return example(reg, s, 0)
}

func example(reg huma.Registry, s *huma.Schema, depth int) any {
	if s == nil || depth > 12 {
		return nil
	}
	if s.Ref != "" {
		return example(reg, reg.SchemaFromRef(s.Ref), depth+1)
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
			if m, ok := example(reg, part, depth+1).(map[string]any); ok {
				maps.Copy(obj, m)
			}
		}
		return obj
	}
	for _, alts := range [][]*huma.Schema{s.AnyOf, s.OneOf} {
		for _, alt := range alts {
			if alt.Type != "null" {
				return example(reg, alt, depth+1)
			}
		}
	}
	switch s.Type {
	case huma.TypeObject:
		obj := map[string]any{}
		for name, p := range s.Properties {
			obj[name] = example(reg, p, depth+1)
		}
		if extra, ok := s.AdditionalProperties.(*huma.Schema); ok && len(s.Properties) == 0 {
			obj["key"] = example(reg, extra, depth+1)
		}
		return obj
	case huma.TypeArray:
		n := 1
		if s.MinItems != nil && *s.MinItems > n {
			n = *s.MinItems
		}
		items := make([]any, n)
		for i := range items {
			items[i] = example(reg, s.Items, depth+1)
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
