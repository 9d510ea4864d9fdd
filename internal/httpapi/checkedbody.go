package httpapi

import (
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// A CheckedBody is a request body that decodes its own JSON text and
// checks it against the rules of the schema huma documents for it
// (incident.CreateIncidentRequest). huma validates a body by decoding it
// into a map[string]any tree and walking the tree with the schema, then
// decodes it again into the input; a CheckedBody is decoded once, and its
// typed values are checked.
//
// Its operation sets SkipValidateBody, and its input's resolver calls
// ResolveBody, which decodes it: huma's own decoding leaves it alone
// (Guest.Unmarshal).
type CheckedBody interface {
	// DecodeChecked decodes data as json.Unmarshal would and reports
	// whether it did and the result meets every rule of the body's
	// schema. When it reports false it has changed nothing.
	DecodeChecked(data []byte) bool
}

// ResolveBody decodes the request's body into b, for the resolver of an
// input whose body is b (ctx is the one huma hands resolvers). A body that
// b.DecodeChecked takes costs one decoding. Any other is decoded and
// validated as huma does without SkipValidateBody (validateBody and
// parseBodyInto in huma.go), so that it gets the same answer: the text
// decoded into an any (400 when it is not JSON), the schema's errors, and
// only then the decoding into b.
func ResolveBody(ctx huma.Context, b CheckedBody) []error {
	w, ok := ctx.(*withBody)
	if !ok || w.check == nil {
		// Only StrictBody keeps the text huma has read; without it the
		// operation cannot decode its body.
		body, _ := setyerr.Wire(setyerr.E(setyerr.Internal, "internal error"))
		return []error{body}
	}
	return w.check.resolve(ctx, w.text, b)
}

// bodyCheck is what ResolveBody needs of StrictBody's API.
type bodyCheck struct {
	api huma.API
	reg huma.Registry
}

func (c *bodyCheck) resolve(ctx huma.Context, body []byte, b CheckedBody) []error {
	contentType := ctx.Header("Content-Type")
	if contentType == "" {
		contentType = "application/json" // as huma: StrictBody passes only operations with a JSON body
	}
	g, guest := c.api.(*Guest)
	if guest && g.decodesAsJSON(contentType) && b.DecodeChecked(body) {
		return nil
	}
	var tree any
	if err := c.api.Unmarshal(contentType, body, &tree); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, huma.ErrUnknownContentType) {
			status = http.StatusUnsupportedMediaType
		}
		return []error{&statusDetail{detail: huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(body)}, status: status}}
	}
	if schema := bodySchema(ctx.Operation()); schema != nil {
		res := &huma.ValidateResult{}
		pb := huma.NewPathBuffer(make([]byte, 0, 64), 0)
		pb.Push("body")
		huma.Validate(c.reg, schema, pb, huma.ModeWriteToServer, tree, res)
		if len(res.Errors) > 0 {
			return res.Errors // 422, huma's status for them (400 in Sety's errors)
		}
	}
	decode := c.api.Unmarshal
	if guest {
		decode = g.decodeTyped // not the guest's Unmarshal, which leaves b to this
	}
	if err := decode(contentType, body, b); err != nil {
		return []error{&huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(body)}}
	}
	return nil
}

// statusDetail is an error detail with the status huma gives it. (An
// embedded huma.ErrorDetail would hide its ErrorDetail method behind the
// field of that name.)
type statusDetail struct {
	detail huma.ErrorDetail
	status int
}

func (e *statusDetail) Error() string                  { return e.detail.Error() }
func (e *statusDetail) ErrorDetail() *huma.ErrorDetail { return &e.detail }
func (e *statusDetail) GetStatus() int                 { return e.status }
