package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// Direct returns an operation middleware (huma.Operation.Middlewares) that
// answers the operation's plain requests itself, as huma's handler of the
// operation would answer them, without its per-request reflection: huma
// walks the input type's fields to parse and validate the parameters, and
// the output type's to find headers, status and body, for every request
// (about a microsecond of a get's CPU). The operation is registered with
// huma.Register as any other, with Errors(log, handler): its document, its
// route and every other request are huma's.
//
// parse reads the input from the request, and reports false for any
// request it cannot judge as huma would (a parameter huma's validation
// might refuse, a query string that huma's configuration may refuse);
// such a request, and one whose Accept header the API cannot serve, goes
// on to huma. Otherwise handler runs once, and its answer is written as
// huma writes it: an error through WriteErr (the wire error, as Errors
// makes it), a result's body with the operation's status, the negotiated
// content type, the API's transformers and its format. Where huma would
// panic after writing (a transformer or the format failing), the same
// text is written and the error logged instead.
func Direct[I, T any](api huma.API, log *slog.Logger, parse func(huma.Context) (I, bool),
	handler func(context.Context, *I) (*Output[T], error)) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		in, ok := parse(ctx)
		if !ok {
			next(ctx)
			return
		}
		ct, err := api.Negotiate(ctx.Header("Accept"))
		if err != nil {
			next(ctx) // huma answers 406
			return
		}
		out, err := handler(ctx.Context(), &in)
		if err != nil {
			WriteErr(api, ctx, log, err)
			return
		}
		status := ctx.Operation().DefaultStatus
		if out == nil {
			ctx.SetStatus(status) // as huma does
			return
		}
		writeBody(api, ctx, log, status, ct, out.Body)
	}
}

// writeBody writes body as huma's writeResponse does once the content
// type is negotiated.
func writeBody(api huma.API, ctx huma.Context, log *slog.Logger, status int, ct string, body any) {
	if f, ok := body.(huma.ContentTypeFilter); ok {
		ct = f.ContentType(ct)
	}
	ctx.SetHeader("Content-Type", ct)
	v, err := api.Transform(ctx, statusText(status), body)
	if err != nil {
		_, _ = ctx.BodyWriter().Write([]byte("error transforming response"))
		log.ErrorContext(ctx.Context(), "transform a response", "operation", ctx.Operation().OperationID, "error", err)
		return
	}
	ctx.SetStatus(status)
	if status == http.StatusNoContent || status == http.StatusNotModified {
		return
	}
	if err := api.Marshal(ctx.BodyWriter(), ct, v); err != nil {
		if errors.Is(ctx.Context().Err(), context.Canceled) {
			ctx.SetStatus(499) // the client left: as huma records it
			return
		}
		_, _ = ctx.BodyWriter().Write([]byte("error marshaling response"))
		log.ErrorContext(ctx.Context(), "marshal a response", "operation", ctx.Operation().OperationID, "error", err)
	}
}

// statusText is the status as transformers are told it ("200").
func statusText(status int) string {
	if status == http.StatusOK {
		return "200" // strconv.Itoa allocates for 100 and over
	}
	return strconv.Itoa(status)
}
