package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
)

// EncodeJSON encodes v as huma's default JSON format does: encoding/json
// without HTML escaping, ending with the encoder's newline.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PreEncoded is a response body that may carry its JSON already encoded
// (by EncodeJSON, so with its newline), for example kept from an earlier
// answer. The JSON is head, body and tail one after another: an answer
// that wraps JSON encoded for something else (a create's, around its
// incident's) is written without a copy of it. A body that carries none
// returns a nil body and is marshalled as any.
type PreEncoded interface {
	PreEncodedJSON() (head, body, tail []byte)
}

// Marshal is the host's, except for a PreEncoded body with its JSON: where
// the host's format for contentType writes what EncodeJSON writes, the
// bytes are written as they are. Otherwise encoding/json would call the
// body's MarshalJSON and then check and compact what it returned, byte by
// byte, which costs about as much as encoding the value again.
func (g *Guest) Marshal(w io.Writer, contentType string, v any) error {
	if p, ok := v.(PreEncoded); ok {
		if head, body, tail := p.PreEncodedJSON(); body != nil && g.writesEncodeJSON(contentType) {
			for _, b := range [...][]byte{head, body, tail} {
				if len(b) == 0 {
					continue
				}
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return g.host.Marshal(w, contentType, v)
}

// formatProbe is a value whose encoding shows how a JSON format differs
// from EncodeJSON, if it does: HTML escaping, the escapes of control
// characters and line separators, number forms, null, empty and nested
// containers, key order, indentation and the final newline.
var formatProbe = struct {
	S string         `json:"s"`
	F float64        `json:"f"`
	I int64          `json:"i"`
	B bool           `json:"b"`
	N *int           `json:"n"`
	A []any          `json:"a"`
	E []int          `json:"e"`
	M map[string]any `json:"m"`
}{
	S: "<a href=\"x\">&amp;</a> \u2028\u2029 \x01\t\n\\ é ☎",
	F: 1.5e-7, I: -9007199254740993, B: true,
	A: []any{1.25, "x", false, nil, map[string]any{}},
	E: []int{},
	M: map[string]any{"z": 1, "a": []any{"y"}},
}

// writesEncodeJSON reports whether the host's format for contentType
// encodes as EncodeJSON does, found once per content type by encoding
// formatProbe both ways.
func (g *Guest) writesEncodeJSON(contentType string) bool {
	if same, ok := g.sameJSON.Load(contentType); ok {
		return same.(bool)
	}
	want, err := EncodeJSON(formatProbe)
	var got bytes.Buffer
	same := err == nil && g.host.Marshal(&got, contentType, formatProbe) == nil && bytes.Equal(got.Bytes(), want)
	g.sameJSON.Store(contentType, same)
	return same
}
