package setyerr

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Body is the wire form of every error response of the Sety API.
// It implements huma's StatusError (Error and GetStatus) without importing it.
type Body struct {
	Code    int          `json:"code" doc:"The HTTP status code." example:"404"`
	Message string       `json:"message" doc:"What failed; for 400 it names the failing field." example:"Incident not found"`
	Errors  []FieldError `json:"errors,omitempty" nullable:"false" doc:"For 400: each failing field."`
}

// FieldError names one invalid input.
type FieldError struct {
	Field   string `json:"field" doc:"The failing input: a JSON path inside the request body (location.coordinates, scopes[0]), or a parameter's name (lat)."`
	Message string `json:"message" doc:"Why the field was rejected."`
}

func (b *Body) Error() string  { return b.Message }
func (b *Body) GetStatus() int { return b.Code }

// UnavailableRetryAfter is the Retry-After, in whole seconds, of every 503:
// storage that does not answer (a lock held too long, a failover, a full
// disk being freed) usually answers again soon, and a client that waits
// that long before retrying does not add to the load.
const UnavailableRetryAfter = 2

// GetHeaders returns the headers the error carries (huma's HeadersError):
// Retry-After on 503.
func (b *Body) GetHeaders() http.Header {
	if b.Code != http.StatusServiceUnavailable {
		return nil
	}
	return http.Header{"Retry-After": {strconv.Itoa(UnavailableRetryAfter)}}
}

// Wire maps err to its wire body. It is the only place a kind becomes a
// status. Internal errors keep their detail out of the body; internal reports
// whether the caller should log err because it was hidden.
func Wire(err error) (body *Body, internal bool) {
	var b *Body
	if errors.As(err, &b) {
		return b, b.Code >= 500 && b.Code != http.StatusServiceUnavailable
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind == Internal {
		return &Body{Code: http.StatusInternalServerError, Message: "internal error"}, true
	}
	body = &Body{Code: e.Kind.Status(), Message: e.Message}
	if e.Kind == Invalid && e.Field != "" {
		body.Errors = []FieldError{{Field: e.Field, Message: strings.TrimPrefix(e.Message, e.Field+": ")}}
	}
	return body, false
}
