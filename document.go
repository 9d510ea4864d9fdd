package sety

import (
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/webhook"
)

// schemaExamples make the document's composed examples possible objects:
// the examples of each property alone would, say, resolve and cancel one
// incident. The incident is one just assigned (as a create may answer).
var schemaExamples = httpapi.Examples{
	"Incident": {"status": "assigned", "severity": "high", "resolved_at": nil, "resolution_outcome": nil, "resolution_notes": nil,
		"cancelled_at": nil, "cancel_reason_code": nil},
	"ResponderAssignment": {"arrived_at": nil},
	"SLA":                 {"time_to_arrive_seconds": nil},
	"ValidationResult":    {"valid": true},
	"AccessCode":          {"revoked_at": nil},
	"AccessLog":           {"status": "checked_out"},
	"Endpoint":            {"disabled_reason": nil},
	"Delivery":            {"status": "succeeded", "next_attempt_at": nil, "error": nil},
	"APIKey":              {"environment": "test", "revoked_at": nil, "parent_key_id": nil},
	"Responder":           {"status": "busy"},
	"SafetyScore":         {"level": "moderate"},
}

// tags are the groups of operations in the document, in reading order.
var tags = []*huma.Tag{
	{Name: "Health", Description: "Whether the API and its storage answer. No API key needed."},
	{Name: "Incidents", Description: "Emergencies reported for your users: Sety dispatches the nearest available responder and " +
		"tracks each incident from `created` to `resolved` or `cancelled`, with SLA clocks and a timeline. " +
		"Test keys create drills, which the sandbox walks through the whole lifecycle."},
	{Name: "Operations console", Description: "Run your own responders: keep the pool current, assign or reassign " +
		"responders and report progress on incidents. Answers 404 unless the server enables the console."},
	{Name: "Access codes", Description: "Visitor codes: issued for a site and a time window, validated at the gate, " +
		"counted per use, locked after repeated wrong guesses."},
	{Name: "Access logs", Description: "Visits from check-in to checkout: who is on site now, history and statistics."},
	{Name: "Threat intelligence", Description: "Danger zones, heatmaps, safety scores and route safety, computed from live, " +
		"non-drill incidents. Every answer carries its time window."},
	{Name: "Webhooks", Description: "Endpoints that receive events (see the `webhooks` of this document), " +
		"signed with Standard Webhooks headers, delivered at least once with retries; their delivery history."},
	{Name: "Events", Description: "A live stream of the events your webhooks could receive, as Server-Sent Events in the " +
		"TimelineEvent envelope; resumable with `Last-Event-ID`."},
	{Name: "API keys", Description: "Keys of your organization: each belongs to one environment (live or test) and holds scopes."},
	{Name: "Sessions", Description: "Sign-in for web pages this server serves (the operations console): an API key is exchanged for " +
		"an HttpOnly session cookie, so the page never keeps the key."},
}

// documentBundles says, on every operation a bundle scope (console) grants
// the scope of, that a key holding the bundle may call it, and that the
// console's session cookie stands in for the key.
func documentBundles(api huma.API) {
	oapi := api.OpenAPI()
	if scheme := oapi.Components.SecuritySchemes[httpapi.SecurityScheme]; scheme != nil {
		scheme.Description += " Pages served by this server may instead sign in with `POST /sessions` and send its HttpOnly " +
			"session cookie (writes with the `" + auth.CSRFHeader + "` header)."
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			scopes, ok := httpapi.ScopeOf(op)
			if !ok || slices.Contains(scopes, string(auth.Console)) {
				continue
			}
			if slices.ContainsFunc(auth.Console.Grants(), func(s auth.Scope) bool { return slices.Contains(scopes, string(s)) }) {
				op.Description += " A key with the `console` scope may call it too."
			}
		}
	}
}

// addTags documents the operation groups, keeping any tag the API has already.
func addTags(api huma.API) {
	oapi := api.OpenAPI()
	for _, t := range tags {
		known := false
		for _, have := range oapi.Tags {
			known = known || have.Name == t.Name
		}
		if !known {
			oapi.Tags = append(oapi.Tags, t)
		}
	}
}

// timelineEvent is the body of every event (schema TimelineEvent); each
// kind of event narrows its type and data.
type timelineEvent struct {
	ID        string     `json:"id" example:"evt_a1b2c3d4e5f6g7h8" doc:"The event id, also sent as the webhook-id header. Every delivery of the event (retries, redeliveries) has the same id: use it to drop duplicates."`
	Type      string     `json:"type" example:"incident.assigned" doc:"The event type; it decides what data holds."`
	CreatedAt clock.Time `json:"created_at" doc:"When the event happened."`
	Sequence  int64      `json:"sequence" example:"3" doc:"Counts the events of one subject (an incident, an access log, an access code) from 1. Deliveries may arrive out of order: drop an event whose sequence is not above the last you applied."`
	Data      any        `json:"data" nullable:"false" doc:"What the event is about, by type: {incident} for incident.*, {access_log} for access.checked_in and access.checked_out, {access_code} for access.code_revoked, {endpoint_id, message} for ping."`
}

type incidentEventData struct {
	Incident *incident.Incident `json:"incident" nullable:"false" doc:"The incident as it is after the event."`
}

type accessLogEventData struct {
	AccessLog *access.AccessLog `json:"access_log" nullable:"false" doc:"The visit as it is after the event."`
}

type accessCodeEventData struct {
	AccessCode *access.AccessCode `json:"access_code" nullable:"false" doc:"The access code as it is after the event."`
}

type pingEventData struct {
	EndpointID string `json:"endpoint_id" example:"we_a1b2c3d4e5f6g7h8" doc:"The endpoint the test was sent to."`
	Message    string `json:"message" example:"Sety webhook test" doc:"A fixed text."`
}

// eventKinds are the kinds of events: the prefix of their types and their
// data.
var eventKinds = []struct {
	prefix, data string
	dataType     reflect.Type
}{
	{"incident.", "`data.incident` is the incident as it is after the event", reflect.TypeFor[incidentEventData]()},
	{"access.checked_", "`data.access_log` is the visit as it is after the event", reflect.TypeFor[accessLogEventData]()},
	{"access.code_", "`data.access_code` is the code as it is after the event", reflect.TypeFor[accessCodeEventData]()},
	{"ping", "`data` names the endpoint", reflect.TypeFor[pingEventData]()},
}

// eventMeanings says when each event type is sent.
var eventMeanings = map[string]string{
	"incident.created":      "An incident was reported.",
	"incident.dispatching":  "Sety is looking for a responder.",
	"incident.assigned":     "A responder was assigned, or a dispatcher reassigned the incident: `responder` holds who, how far and how soon.",
	"incident.responding":   "The responder is on the way.",
	"incident.on_scene":     "The responder arrived.",
	"incident.resolved":     "The incident was resolved: `resolution_outcome` says how.",
	"incident.cancelled":    "The incident was cancelled: `cancel_reason_code` and the timeline say why.",
	"incident.note_added":   "A note was added to the timeline.",
	"incident.sla_at_risk":  "An SLA target (assignment or arrival) became at risk: 80 % of it gone, the assigned responder's ETA past `arrive_by`, or half the assignment target gone with no responder in range; sent once per target.",
	"incident.sla_breached": "An SLA target (assignment or arrival) was missed; sent once per target.",
	"access.checked_in":     "A visitor checked in, with a code or by hand.",
	"access.checked_out":    "A visitor checked out.",
	"access.code_revoked":   "An access code was revoked.",
	"ping":                  "A test sent by the test operation, whatever the endpoint's event filter.",
}

// documentWebhooks describes every event a webhook endpoint can receive:
// the TimelineEvent envelope (id, type, created_at, sequence, data) that is
// the body of every delivery, and one entry per event type in the
// document's webhooks, with the Standard Webhooks signature headers and a
// body that narrows the envelope's type and data. The narrowed bodies are
// inline, not components: oapi-codegen drops components that only webhooks
// refer to, then fails on the body types it generates for them.
func documentWebhooks(api huma.API) {
	oapi := api.OpenAPI()
	reg := oapi.Components.Schemas
	if oapi.Webhooks == nil {
		oapi.Webhooks = map[string]*huma.PathItem{}
	}
	envelope := reg.Schema(reflect.TypeFor[timelineEvent](), true, "")
	all := make([]any, len(webhook.EventTypes))
	for i, typ := range webhook.EventTypes {
		all[i] = typ
	}
	reg.SchemaFromRef(envelope.Ref).Properties["type"].Enum = all
	for _, kind := range eventKinds {
		var types []any
		for _, typ := range webhook.EventTypes {
			if strings.HasPrefix(typ, kind.prefix) {
				types = append(types, typ)
			}
		}
		schema := &huma.Schema{
			Description: "A TimelineEvent of type " + joinTypes(types) + ": " + kind.data + ".",
			AllOf: []*huma.Schema{envelope, {
				Type:     huma.TypeObject,
				Required: []string{"type", "data"},
				Properties: map[string]*huma.Schema{
					"type": {Type: huma.TypeString, Enum: types},
					"data": huma.SchemaFromType(reg, kind.dataType),
				},
			}},
		}
		schema.PrecomputeMessages()
		for _, typ := range types {
			oapi.Webhooks[typ.(string)] = &huma.PathItem{Post: webhookOperation(reg, typ.(string), kind.data, schema)}
		}
	}
}

func joinTypes(types []any) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = "`" + t.(string) + "`"
	}
	return strings.Join(parts, ", ")
}

func webhookOperation(reg huma.Registry, typ, data string, schema *huma.Schema) *huma.Operation {
	example, _ := schemaExamples.Of(reg, schema).(map[string]any)
	if example != nil {
		example["type"] = typ
	}
	header := func(name, doc, example string) *huma.Param {
		return &huma.Param{Name: name, In: "header", Required: true, Description: doc, Schema: &huma.Schema{Type: huma.TypeString}, Example: example}
	}
	return &huma.Operation{
		OperationID: "webhook-" + strings.NewReplacer(".", "-", "_", "-").Replace(typ),
		Summary:     typ,
		Description: eventMeanings[typ] + " Sety POSTs the event to every enabled endpoint of the environment that subscribes to `" + typ +
			"` (or to a wildcard that covers it); " + data + ".",
		Tags:     []string{"Webhooks"},
		Security: []map[string][]string{},
		Metadata: map[string]any{},
		Parameters: []*huma.Param{
			header(webhook.HeaderID, "The event id: the same in every delivery of the event.", "evt_a1b2c3d4e5f6g7h8"),
			header(webhook.HeaderTimestamp, "When this attempt was signed, in Unix seconds. Refuse attempts far from your clock "+
				"(Sety's own verifier, webhook.Verify, allows 5 minutes) to stop replays.", "1773152525"),
			header(webhook.HeaderSignature, "Space-separated `v1,<signature>` entries, each the base64 HMAC-SHA256 of "+
				"`<webhook-id>.<webhook-timestamp>.<body>` keyed with the base64-decoded part of an endpoint secret after `whsec_`. "+
				"For 24 hours after a secret rotation there are two: accept the delivery when any one matches.",
				"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
		},
		RequestBody: &huma.RequestBody{
			Required: true,
			Content:  map[string]*huma.MediaType{"application/json": {Schema: schema, Example: example}},
		},
		Responses: map[string]*huma.Response{
			"2XX": {Description: "Received. Any 2xx within 10 seconds acknowledges the delivery; the body is ignored."},
			"410": {Description: "Gone: Sety disables the endpoint and sends it nothing more until it is enabled again."},
			"default": {Description: "Any other answer, or none within 10 seconds, fails the attempt. Sety retries after 5 s, " +
				"5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then marks the delivery failed; an endpoint that fails everything for 5 days is disabled."},
		},
	}
}
