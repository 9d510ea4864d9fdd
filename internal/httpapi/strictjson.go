package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// StrictKeys returns middleware for Sety's operations that refuses a JSON
// request body whose object keys are not spelled exactly as the operation's
// schema spells them, or that repeats a key. encoding/json (and huma's
// validation, to match it) pairs keys with fields case-insensitively, so
// {"category": "sos", "CATEGORY": "medical"} would create a medical
// incident; here it is 400, naming CATEGORY. It reads the body once, hands
// the same bytes on to huma, and leaves a body over the limit to huma's 413.
func StrictKeys(api huma.API, log *slog.Logger) func(huma.Context, func(huma.Context)) {
	reg := api.OpenAPI().Components.Schemas
	return func(ctx huma.Context, next func(huma.Context)) {
		op, reader := ctx.Operation(), ctx.BodyReader()
		schema := bodySchema(op)
		if !IsSety(op) || schema == nil || reader == nil {
			next(ctx)
			return
		}
		body, err := io.ReadAll(io.LimitReader(reader, MaxBodyBytes+1))
		if err != nil || len(body) > MaxBodyBytes {
			// Let huma read what is left and answer 413 or the read error.
			next(withBody{ctx, io.MultiReader(bytes.NewReader(body), reader)})
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := checkKeys(dec, reg, schema, ""); err != nil {
			var invalid *setyerr.Error
			if errors.As(err, &invalid) {
				WriteErr(api, ctx, log, err)
				return
			}
			// Not JSON, or not what the schema expects: huma says so.
		}
		next(withBody{ctx, bytes.NewReader(body)})
	}
}

// withBody is a request context whose body has been read already.
type withBody struct {
	requestContext // embedded under another name: huma.Context has a Context method
	body           io.Reader
}

type requestContext = huma.Context

func (c withBody) BodyReader() io.Reader { return c.body }

func bodySchema(op *huma.Operation) *huma.Schema {
	if op == nil || op.RequestBody == nil {
		return nil
	}
	if mt := op.RequestBody.Content["application/json"]; mt != nil {
		return mt.Schema
	}
	return nil
}

// checkKeys reads one JSON value from dec and checks every object key in it
// against the properties of s (resolved through reg), down to where the
// schema stops describing properties.
func checkKeys(dec *json.Decoder, reg huma.Registry, s *huma.Schema, path string) error {
	s = resolve(reg, s)
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return err
			}
			key := keyTok.(string)
			at := join(path, key)
			if seen[key] {
				return setyerr.Invalidf(at, "appears twice")
			}
			seen[key] = true
			p, err := property(s, key, at)
			if err != nil {
				return err
			}
			if err := checkKeys(dec, reg, p, at); err != nil {
				return err
			}
		}
		_, err = dec.Token() // }
		return err
	case json.Delim('['):
		var items *huma.Schema
		if s != nil {
			items = s.Items
		}
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, reg, items, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ]
		return err
	}
	return nil
}

// property returns the schema of key inside s, or nil when s says nothing
// of it (huma's validation then judges the key). A key that matches a
// property only when case is ignored is an Invalid error naming it and the
// spelling it must have.
func property(s *huma.Schema, key, at string) (*huma.Schema, error) {
	if s == nil {
		return nil, nil
	}
	if p, ok := s.Properties[key]; ok {
		return p, nil
	}
	for name := range s.Properties {
		if strings.EqualFold(name, key) {
			return nil, setyerr.Invalidf(at, "unknown field: names are case-sensitive, did you mean %q?", name)
		}
	}
	if extra, ok := s.AdditionalProperties.(*huma.Schema); ok {
		return extra, nil
	}
	return nil, nil
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

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
