package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// MaxDepth is how deeply a request body may nest objects and arrays (the
// contract's 64 levels); deeper is 400.
const MaxDepth = 64

// errTooDeep is the answer to a body nested past MaxDepth.
var errTooDeep = setyerr.Invalidf("body", "nested deeper than %d levels of objects and arrays", MaxDepth)

// StrictBody returns middleware for Sety's operations that refuses, with
// 400, a JSON request body nested deeper than MaxDepth, or whose object
// keys are not spelled exactly as the operation's schema spells them, or
// that repeats a key. encoding/json (and huma's validation, to match it)
// pairs keys with fields case-insensitively, so {"category": "sos",
// "CATEGORY": "medical"} would create a medical incident; here it is 400,
// naming CATEGORY. The depth is counted in one flat pass before anything
// (this walk, huma's decoding) recurses into the body: 30,000 nested
// brackets fit in 60 KB. It reads the body once, hands the same bytes on to
// huma, and leaves a body over the limit to huma's 413.
func StrictBody(api huma.API, log *slog.Logger) func(huma.Context, func(huma.Context)) {
	reg := api.OpenAPI().Components.Schemas
	check := &bodyCheck{api: api, reg: reg}
	return func(ctx huma.Context, next func(huma.Context)) {
		op, reader := ctx.Operation(), ctx.BodyReader()
		schema := bodySchema(op)
		if !IsSety(op) || schema == nil || reader == nil {
			next(ctx)
			return
		}
		if ct := ctx.Header("Content-Type"); !isJSON(ct) {
			// The contract is JSON only: huma would decode any format its
			// API registers (CBOR by default, or a host's own), and a
			// client that sends one should learn it is not supported.
			_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, "", unsupportedMedia(ct))
			return
		}
		bp := bodyBuffers.Get().(*[]byte)
		body, err := readBody((*bp)[:0], reader, MaxBodyBytes+1)
		defer func() {
			// Nothing keeps the body once the operation has answered:
			// huma reads it into a buffer of its own, and the decoders
			// and errors copy what they keep.
			if cap(body) <= maxPooledBody {
				*bp = body[:0]
				bodyBuffers.Put(bp)
			}
		}()
		if err != nil || len(body) > MaxBodyBytes {
			// Let huma read what is left and answer 413 or the read error.
			next(newWithBody(ctx, body, reader, nil))
			return
		}
		if !nestedAtMost(body, MaxDepth) {
			WriteErr(api, ctx, log, errTooDeep)
			return
		}
		if err := checkKeys(body, reg, schema); err != nil {
			var invalid *setyerr.Error
			if errors.As(err, &invalid) {
				WriteErr(api, ctx, log, err)
				return
			}
			// Not JSON, or not what the schema expects: huma says so.
		}
		next(newWithBody(ctx, body, nil, check))
	}
}

// maxPooledBody is the largest body buffer kept for the next request: a
// create's body is about 500 bytes.
const maxPooledBody = 8 << 10

// bodyBuffers holds StrictBody's buffers between requests.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// readBody appends r's bytes to b until r ends or limit bytes are read, as
// io.ReadAll(io.LimitReader(r, limit)) reads them, without their
// allocations.
func readBody(b []byte, r io.Reader, limit int64) ([]byte, error) {
	lr := io.LimitedReader{R: r, N: limit}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// nestedAtMost reports whether the JSON text body opens no more than limit
// objects and arrays inside one another. It only counts brackets outside
// strings: whether body is valid JSON is for the decoders to say.
func nestedAtMost(body []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > limit {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return true
}

// isJSON reports whether a request's Content-Type makes huma read the body
// as JSON: none (JSON is the default), application/json, or a +json type.
func isJSON(contentType string) bool {
	if contentType == "" || contentType == "application/json" {
		return true // what clients send, without a parse that allocates
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// withBody is a request context whose body has been read already: body,
// then rest, if not nil (what was not read of a body over the limit).
// text is the body whole, and check what ResolveBody decodes it with: the
// operation's resolvers get this context.
type withBody struct {
	requestContext // embedded under another name: huma.Context has a Context method
	body           bytes.Reader
	rest           io.Reader
	text           []byte
	check          *bodyCheck
}

type requestContext = huma.Context

// newWithBody is ctx with body as read (and rest, if not nil, after it),
// in one allocation.
func newWithBody(ctx huma.Context, body []byte, rest io.Reader, check *bodyCheck) *withBody {
	c := &withBody{requestContext: ctx, rest: rest, text: body, check: check}
	c.body.Reset(body)
	return c
}

func (c *withBody) BodyReader() io.Reader {
	if c.rest != nil {
		return io.MultiReader(&c.body, c.rest)
	}
	return &c.body
}

func bodySchema(op *huma.Operation) *huma.Schema {
	if op == nil || op.RequestBody == nil {
		return nil
	}
	if mt := op.RequestBody.Content["application/json"]; mt != nil {
		return mt.Schema
	}
	return nil
}

// resolve follows s's references, and into the non-null alternative of a
// nullable property (anyOf [X, null]).
func resolve(reg huma.Registry, s *huma.Schema) *huma.Schema {
	for s != nil {
		switch {
		case s.Ref != "":
			s = reg.SchemaFromRef(s.Ref)
		case len(s.AnyOf) == 2 && s.AnyOf[1].Type == "null":
			s = s.AnyOf[0]
		default:
			return s
		}
	}
	return nil
}
