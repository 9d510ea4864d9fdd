package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/sety-io/sety/setyerr"
)

// Err converts a service error into the wire error huma writes. Errors with
// no kind become 500 "internal error"; their detail goes to log only.
func Err(ctx context.Context, log *slog.Logger, err error) error {
	body, internal := setyerr.Wire(err)
	if internal {
		log.ErrorContext(ctx, "internal error", "error", err)
	}
	return body
}

var installOnce sync.Once

// InstallErrorFormat makes huma's own errors (validation, body too large,
// unreadable body) come out as Sety's {code, message} for Sety's operations.
// huma.NewErrorWithContext is a process-wide variable, so the hook chains to
// whatever was there before and leaves other APIs' operations alone.
func InstallErrorFormat() {
	installOnce.Do(func() {
		previous := huma.NewErrorWithContext
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			if ctx == nil || !IsSety(ctx.Operation()) {
				return previous(ctx, status, msg, errs...)
			}
			if status == http.StatusUnsupportedMediaType {
				return unsupportedMedia(ctx.Header("Content-Type"))
			}
			return humaErrorBody(status, msg, errs)
		}
	})
}

// humaErrorBody turns an error raised inside huma into the wire body.
// Validation errors are 422 in huma and 400 in the Sety contract. Rejected
// values are never echoed: they may hold secrets.
func humaErrorBody(status int, msg string, errs []error) *setyerr.Body {
	for _, e := range errs {
		if b, ok := e.(*setyerr.Body); ok {
			return b // from WriteErr: Sety's own
		}
	}
	if status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest
	}
	if status >= 500 {
		// huma's 5xx carry Go error text (a failed body read); show none of it.
		body, _ := setyerr.Wire(setyerr.E(kindOfStatus(status), "internal error"))
		return body
	}
	if status == http.StatusRequestEntityTooLarge {
		// huma's text names its internal limit, one byte above the contract's.
		return &setyerr.Body{Code: status, Message: fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
	}
	body := &setyerr.Body{Code: status, Message: msg}
	var parts []string
	for _, e := range errs {
		var d huma.ErrorDetailer
		if !errors.As(e, &d) {
			continue
		}
		detail := d.ErrorDetail()
		field, message := FieldPath(detail.Location, detail.Message), plainMessage(detail.Message)
		body.Errors = append(body.Errors, setyerr.FieldError{Field: field, Message: message})
		parts = append(parts, field+": "+message)
	}
	if len(parts) > 0 {
		body.Message = strings.Join(parts, "; ")
	}
	return body
}

// unsupportedMedia is the answer to a body whose Content-Type is not JSON:
// it says what to send instead.
func unsupportedMedia(contentType string) *setyerr.Body {
	const fix = "send Content-Type: application/json"
	detail := fmt.Sprintf("Content-Type %.100q is not supported: %s", contentType, fix)
	return &setyerr.Body{Code: http.StatusUnsupportedMediaType, Message: "body: " + detail,
		Errors: []setyerr.FieldError{{Field: "body", Message: detail}}}
}

// FieldPath turns huma's location of a failing input ("body.location.
// coordinates", "query.lat", "path.incidentId") into the one convention of
// errors[].field: a JSON path inside the body, or a parameter's name. A
// missing required property, which huma reports at its parent, is named
// itself. The body as a whole (unreadable JSON) stays "body".
func FieldPath(location, message string) string {
	var missing string
	if _, err := fmt.Sscanf(message, validation.MsgExpectedRequiredProperty, &missing); err == nil {
		if location == "body" {
			return missing
		}
		location += "." + missing
	}
	for _, in := range []string{"body.", "query.", "path.", "header."} {
		if rest, ok := strings.CutPrefix(location, in); ok {
			return rest
		}
	}
	return location
}

// WriteErr writes err as the response of an operation, for middleware. The
// body goes through huma's error hook whole, as it is: it is already the
// wire error, with a message safe to show.
func WriteErr(api huma.API, ctx huma.Context, log *slog.Logger, err error) {
	body := Err(ctx.Context(), log, err).(*setyerr.Body)
	for k, v := range body.GetHeaders() {
		ctx.SetHeader(k, v[0])
	}
	_ = huma.WriteErr(api, ctx, body.Code, body.Message, body)
}

func kindOfStatus(status int) setyerr.Kind {
	if status == http.StatusServiceUnavailable {
		return setyerr.Unavailable
	}
	return setyerr.Internal
}

// plainMessage rewrites encoding/json's messages, which name Go types
// ("cannot unmarshal number 1e999 into Go value of type float64"), into words
// about the request.
func plainMessage(msg string) string {
	switch {
	case strings.HasPrefix(msg, "json: cannot unmarshal number"):
		return "number out of range"
	case strings.HasPrefix(msg, "json: cannot unmarshal"):
		return "value of the wrong type"
	case strings.HasPrefix(msg, "json: "):
		return "invalid JSON"
	}
	return msg
}
