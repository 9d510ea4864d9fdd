package threatapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/negotiation"

	"github.com/sety-io/sety/threat"
)

// Danger zones, heatmaps and route safety answer GeoJSON to a client that
// asks for it with Accept: application/geo+json, and JSON otherwise. The
// GeoJSON body is written as bytes with its own Content-Type, so it needs
// no format registered on the API (a service that mounts Sety keeps its
// own formats).

const geoJSONNote = "With `Accept: application/geo+json` the answer is an RFC 7946 FeatureCollection instead."

// negotiated is the response of an operation with both media types.
type negotiated struct {
	ContentType string `header:"Content-Type" hidden:"true"`
	Vary        string `header:"Vary" doc:"Accept: the body's media type follows the Accept header."`
	Body        any
}

// negotiate answers v as JSON, or as the GeoJSON geo returns when accept
// prefers application/geo+json to application/json.
func negotiate(accept string, v any, geo func() any) (*negotiated, error) {
	out := &negotiated{Vary: "Accept", Body: v}
	if negotiation.SelectQValue(accept, []string{"application/json", threat.MediaTypeGeoJSON}) != threat.MediaTypeGeoJSON {
		return out, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(geo()); err != nil {
		return nil, err
	}
	out.ContentType, out.Body = threat.MediaTypeGeoJSON, buf.Bytes()
	return out, nil
}

// documentGeoJSON documents the success response of operation id as JSON
// (schema J) and names the GeoJSON alternative (schema G) without listing it
// as a second media type: typed clients generated from the document
// (openapi-typescript with openapi-fetch, for one) type a response with two
// JSON-like media types as their union, so a client written for the public
// docs, which read the JSON fields directly, would no longer compile. The
// GeoJSON schema stays in components, named by the response's description
// and by its x-alternative-content extension, for GIS clients to use.
func documentGeoJSON[J, G any](api huma.API, id string) {
	oapi := api.OpenAPI()
	for _, item := range oapi.Paths {
		if op := item.Get; op != nil && op.OperationID == id {
			geo := oapi.Components.Schemas.Schema(reflect.TypeFor[G](), true, "")
			ok := op.Responses["200"]
			ok.Description = "OK: JSON by default; with `Accept: application/geo+json`, an RFC 7946 FeatureCollection (schema `" +
				strings.TrimPrefix(geo.Ref, "#/components/schemas/") + "`)."
			ok.Content = map[string]*huma.MediaType{
				"application/json": {Schema: oapi.Components.Schemas.Schema(reflect.TypeFor[J](), true, "")},
			}
			ok.Extensions = map[string]any{alternativeContent: map[string]any{
				threat.MediaTypeGeoJSON: map[string]any{"schema": map[string]any{"$ref": geo.Ref}},
			}}
		}
	}
}

// alternativeContent is the response extension that names the media types
// a client may ask for with Accept besides the documented one, each with
// its schema, in the shape of a response's content map.
const alternativeContent = "x-alternative-content"
