package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// module is the import path of Sety's packages: the document rules below
// touch only schemas of Sety's own types, never those of a host API.
const module = "github.com/sety-io/sety"

// FinishDocument completes what huma cannot say by itself about Sety's part
// of api's OpenAPI document; call it once every Sety operation and schema is
// registered:
//
//   - null: a property admits null exactly when its Go field can encode as
//     null (see [documentNulls]);
//   - examples: every request and success body gets an example composed from
//     its schema's property examples and examples' fields;
//   - huma's own error schema (ErrorModel), which no Sety operation answers
//     with, leaves the document unless something else refers to it.
func FinishDocument(api huma.API, examples Examples) {
	oapi := api.OpenAPI()
	reg := oapi.Components.Schemas
	documentNulls(reg)
	addExamples(oapi, examples)
	pruneHumaErrors(oapi)
}

// documentNulls makes the document admit null wherever a Sety type can
// send it, and only there. The rule, from the Go field: a pointer, map or
// interface field encodes nil as null unless it is omitempty (then it is
// left out instead); a slice is nullable by huma's own default; a Go array
// never is; a scalar type that encodes its zero value as null (clock.Time)
// says so with `nullable:"true"`. A field the code never leaves nil opts
// out with `nullable:"false"` (the HTTP tests check every response against
// the document, so a wrong opt-out fails them).
//
// huma marks nullable scalars with `type: [T, "null"]`, which is kept; it
// cannot mark a referenced object (it panics), and its enums keep null out
// of `enum`, so those become `anyOf: [{...}, {type: "null"}]`: the form
// oapi-codegen turns into a pointer and openapi-typescript into `T | null`.
func documentNulls(reg huma.Registry) {
	prefix := refPrefix(reg)
	for name, s := range reg.Map() {
		t := reg.TypeFromRef(prefix + name)
		if t == nil || t.Kind() != reflect.Struct || !strings.HasPrefix(t.PkgPath(), module) {
			continue
		}
		for _, f := range reflect.VisibleFields(t) {
			jsonName, omit := jsonField(f)
			prop := s.Properties[jsonName]
			if prop == nil || omit {
				continue
			}
			if f.Type.Kind() == reflect.Array {
				prop.Nullable = false // a Go array is never nil: huma's nullable arrays are slices
				continue
			}
			switch f.Tag.Get("nullable") {
			case "false":
				continue
			case "true":
			default:
				switch f.Type.Kind() {
				case reflect.Pointer, reflect.Map, reflect.Interface:
				default:
					continue
				}
			}
			s.Properties[jsonName] = orNull(prop)
		}
	}
}

// orNull returns s admitting null as well.
func orNull(s *huma.Schema) *huma.Schema {
	for _, alt := range s.AnyOf {
		if alt.Type == "null" {
			return s
		}
	}
	if s.Ref == "" && len(s.Enum) == 0 {
		// A schema of no type admits null already.
		s.Nullable = s.Type != ""
		return s
	}
	inner := *s
	inner.Nullable, inner.Description, inner.Examples = false, "", nil
	out := &huma.Schema{
		Description: s.Description,
		Examples:    s.Examples,
		AnyOf:       []*huma.Schema{&inner, {Type: "null"}},
	}
	inner.PrecomputeMessages()
	out.PrecomputeMessages()
	return out
}

// jsonField returns the JSON name of f ("" when it is not encoded) and
// whether it is left out when empty.
func jsonField(f reflect.StructField) (string, bool) {
	if !f.IsExported() || f.Anonymous && f.Tag.Get("json") == "" {
		return "", false
	}
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
}

// refPrefix is how the registry's references start ("#/components/schemas/").
func refPrefix(reg huma.Registry) string {
	ref := errorSchema(reg).Ref
	return ref[:strings.LastIndex(ref, "/")+1]
}

// pruneHumaErrors removes huma's default error schemas when nothing in the
// document refers to them: huma registers them for every operation, but
// every Sety error is the Error schema. A later operation that answers with
// them registers them again.
func pruneHumaErrors(oapi *huma.OpenAPI) {
	reg := oapi.Components.Schemas
	schemas := reg.Map()
	prefix := refPrefix(reg)
	// The model first: it refers to the detail.
	for _, humas := range []reflect.Type{reflect.TypeFor[huma.ErrorModel](), reflect.TypeFor[huma.ErrorDetail]()} {
		for _, name := range sortedKeys(schemas) {
			if reg.TypeFromRef(prefix+name) != humas {
				continue
			}
			removed := schemas[name]
			delete(schemas, name)
			if refersTo(oapi, prefix+name) {
				schemas[name] = removed
			}
		}
	}
}

// refersTo reports whether anything in the document refers to ref.
func refersTo(oapi *huma.OpenAPI, ref string) bool {
	b, err := json.Marshal(oapi)
	if err != nil {
		return true
	}
	quoted, _ := json.Marshal(ref)
	return strings.Contains(string(b), string(quoted))
}
