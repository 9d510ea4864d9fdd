package httpapi

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/clock"
)

// Alias makes reg document every T as its Schema type S says, wherever T
// appears: an enum's values, a timestamp's format. The domains know
// nothing of huma (their adapters build without it), so each HTTP package
// declares, for each of its domain's enums, a type of its own whose Schema
// method gives the values, and aliases the domain's type to it before it
// registers any operation.
func Alias[T any, S huma.SchemaProvider](reg huma.Registry) {
	reg.RegisterTypeAlias(reflect.TypeFor[T](), reflect.TypeFor[S]())
}

// timeSchema documents clock.Time as a date-time string.
type timeSchema clock.Time

func (timeSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Examples: []any{"2026-03-10T14:22:05.412Z"}}
}
