package httpapi

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// errorMeanings are the documented meanings of the error statuses, as the
// contract states them; an error response an operation declares with a
// description of its own refines one for that operation.
var errorMeanings = map[int]string{
	http.StatusBadRequest:            "Invalid request: `message` names the failing field or parameter, and `errors` lists each one.",
	http.StatusUnauthorized:          "The API key is missing, malformed, unknown, revoked or expired: send a valid key as `Authorization: Bearer <key>`.",
	http.StatusPaymentRequired:       "The organization's plan has no API access, or the organization is suspended.",
	http.StatusForbidden:             "The API key lacks the scope this operation needs.",
	http.StatusNotFound:              "Not found: absent, or owned by another organization or by the other environment (live and test data are separate).",
	http.StatusConflict:              "The current state forbids the change; `message` says why.",
	http.StatusRequestEntityTooLarge: "The request body is larger than 64 KiB.",
	http.StatusUnsupportedMediaType:  "The request body is not JSON: send `Content-Type: application/json`.",
	http.StatusTooManyRequests:       "Rate limited: the organization's plan allows this many requests per minute. Retry after `Retry-After` seconds.",
	http.StatusInternalServerError:   "Unexpected server error. The detail is logged on the server, never sent.",
	http.StatusServiceUnavailable:    "Storage unavailable: retry after `Retry-After` seconds.",
}

// unavailableWrite is the meaning of a 503 to a request that changes
// something: the change may have committed before the answer was lost.
const unavailableWrite = "Storage unavailable: retry after `Retry-After` seconds. The change may have been made before storage failed: " +
	"check before repeating one that must not happen twice."

// errorExamples are example bodies of each error status.
var errorExamples = map[int]*setyerr.Body{
	http.StatusBadRequest: {Code: 400, Message: "location.coordinates: latitude must be between -90 and 90",
		Errors: []setyerr.FieldError{{Field: "location.coordinates", Message: "latitude must be between -90 and 90"}}},
	http.StatusUnauthorized:          {Code: 401, Message: "missing or invalid API key: send it as Authorization: Bearer <key>"},
	http.StatusPaymentRequired:       {Code: 402, Message: "organization is suspended"},
	http.StatusForbidden:             {Code: 403, Message: "API key lacks scope incidents:write"},
	http.StatusNotFound:              {Code: 404, Message: "Incident not found"},
	http.StatusConflict:              {Code: 409, Message: "incident is resolved and cannot be cancelled"},
	http.StatusRequestEntityTooLarge: {Code: 413, Message: "request body is larger than 65536 bytes"},
	http.StatusUnsupportedMediaType:  unsupportedMedia("text/plain"),
	http.StatusTooManyRequests:       {Code: 429, Message: "rate limit of 300 requests per minute exceeded"},
	http.StatusInternalServerError:   {Code: 500, Message: "internal error"},
	http.StatusServiceUnavailable:    {Code: 503, Message: "storage unavailable"},
}

// successText is the description of a success status.
func successText(status int) string {
	switch status {
	case http.StatusCreated:
		return "Created."
	case http.StatusAccepted:
		return "Accepted: queued for delivery."
	}
	return "OK."
}

func errorResponse(schema *huma.Schema, status int, meaning string, scoped bool) *huma.Response {
	if meaning == "" {
		meaning = errorMeanings[status]
	}
	if meaning == "" {
		meaning = http.StatusText(status) + "."
	}
	var example any
	if e := errorExamples[status]; e != nil {
		example = e
	}
	return &huma.Response{
		Description: meaning,
		Headers:     responseHeaders(scoped, status),
		Content:     map[string]*huma.MediaType{"application/json": {Schema: schema, Example: example}},
	}
}

// Response header names.
const (
	HeaderLimit     = "X-RateLimit-Limit"
	HeaderRemaining = "X-RateLimit-Remaining"
	HeaderReset     = "X-RateLimit-Reset"
	HeaderRetry     = "Retry-After"
	HeaderChallenge = "WWW-Authenticate"
)

// retryUnavailable documents the Retry-After of a 503.
var retryUnavailable = &huma.Param{
	Description: "Whole seconds to wait before retrying.",
	Required:    true,
	Schema:      &huma.Schema{Type: huma.TypeInteger}, Example: setyerr.UnavailableRetryAfter,
}

// responseHeaders documents the headers a response of status carries: the
// rate-limit headers on every response to an authenticated request (a key
// that fails authentication is not counted), Retry-After on 429 and 503,
// the challenge on 401.
func responseHeaders(scoped bool, status int) map[string]*huma.Param {
	if !scoped {
		if status == http.StatusServiceUnavailable {
			return map[string]*huma.Param{HeaderRetry: retryUnavailable}
		}
		return nil
	}
	switch status {
	case http.StatusUnauthorized:
		return map[string]*huma.Param{HeaderChallenge: {
			Description: "The authentication scheme: `Bearer realm=\"sety\"`, with `error=\"invalid_token\"` for a key that is not accepted.",
			Required:    true,
			Schema:      &huma.Schema{Type: huma.TypeString},
			Example:     `Bearer realm="sety", error="invalid_token"`,
		}}
	case http.StatusPaymentRequired:
		return nil
	}
	h := map[string]*huma.Param{
		HeaderLimit: {
			Description: "Requests per minute the organization's plan allows in this environment (starter 60, growth 300, enterprise 1,000). " +
				"Absent when the server does not enforce rate limits.",
			Schema: &huma.Schema{Type: huma.TypeInteger}, Example: 300,
		},
		HeaderRemaining: {
			Description: "Requests left in the current one-minute window.",
			Schema:      &huma.Schema{Type: huma.TypeInteger}, Example: 287,
		},
		HeaderReset: {
			Description: "When the current window ends and the count starts again (RFC 3339, UTC).",
			Schema:      &huma.Schema{Type: huma.TypeString, Format: "date-time"}, Example: "2026-03-10T14:31:00.000Z",
		},
	}
	if status == http.StatusServiceUnavailable {
		// Storage failed before the rate limit was counted, or after.
		for _, name := range []string{HeaderLimit, HeaderRemaining, HeaderReset} {
			h[name].Description += " Absent when storage failed before the request was counted."
		}
		h[HeaderRetry] = retryUnavailable
	}
	if status == http.StatusTooManyRequests {
		h[HeaderRetry] = &huma.Param{
			Description: "Whole seconds to wait before the next request is admitted.",
			Required:    true,
			Schema:      &huma.Schema{Type: huma.TypeInteger}, Example: 55,
		}
	}
	return h
}
