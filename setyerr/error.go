package setyerr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error by what the caller can do about it.
// Do not reorder: the zero value must stay Internal.
type Kind int

// The kinds, each with the HTTP status [Status] maps it to.
const (
	Internal        Kind = iota // 500: a bug or an unexpected failure
	Invalid                     // 400: the request is malformed; Field names the input
	Unauthenticated             // 401: no valid credentials
	PaymentRequired             // 402: the organization's plan or status forbids API access
	Forbidden                   // 403: the credentials lack a permission
	NotFound                    // 404: absent, or invisible to the caller's tenant
	Conflict                    // 409: the current state forbids the change
	TooLarge                    // 413: the request body is too large
	RateLimited                 // 429: too many requests
	Unavailable                 // 503: storage or a dependency does not answer
)

var statuses = [...]int{
	Internal:        http.StatusInternalServerError,
	Invalid:         http.StatusBadRequest,
	Unauthenticated: http.StatusUnauthorized,
	PaymentRequired: http.StatusPaymentRequired,
	Forbidden:       http.StatusForbidden,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	TooLarge:        http.StatusRequestEntityTooLarge,
	RateLimited:     http.StatusTooManyRequests,
	Unavailable:     http.StatusServiceUnavailable,
}

// Status returns the HTTP status of a kind.
func (k Kind) Status() int {
	if k < 0 || int(k) >= len(statuses) {
		return http.StatusInternalServerError
	}
	return statuses[k]
}

func (k Kind) String() string { return http.StatusText(k.Status()) }

// Error is an error with a kind and a message that is safe to show a client.
type Error struct {
	Kind    Kind
	Field   string // the input at fault, for Invalid errors ("location.coordinates")
	Message string // shown to clients; never holds internal detail
	Err     error  // the underlying cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an error of kind k with a client-safe message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k whose message is shown to clients and whose
// cause err is kept for logs.
func Wrap(k Kind, err error, message string) *Error {
	return &Error{Kind: k, Message: message, Err: err}
}

// Invalidf returns an Invalid error for field. The message shown to clients
// starts with the field name so it always says what failed.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
