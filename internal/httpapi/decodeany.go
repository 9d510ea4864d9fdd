package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Unmarshal is the host's, except that a body decoded into an any (huma
// does so to validate it against the operation's schema, before decoding
// it again into the input struct) is decoded by decodeAny wherever the
// host's format decodes as encoding/json does. decodeAny gives up on
// anything but plain valid JSON, and the host's format then decodes it,
// errors and all.
//
// A body that is a BodyDecoder (huma's second decoding, into the input
// struct) decodes itself where the host's format decodes as encoding/json
// does, and leaves to the host's format what it does not take. A
// CheckedBody is left alone: its input's resolver decodes it (ResolveBody).
func (g *Guest) Unmarshal(contentType string, data []byte, v any) error {
	switch v := v.(type) {
	case *any:
		if g.decodesAsJSON(contentType) {
			if tree, ok := decodeAny(data); ok {
				*v = tree
				return nil
			}
		}
	case CheckedBody:
		return nil
	}
	return g.decodeTyped(contentType, data, v)
}

// decodeTyped decodes data into v, itself if v is a BodyDecoder.
func (g *Guest) decodeTyped(contentType string, data []byte, v any) error {
	if d, ok := v.(BodyDecoder); ok && g.decodesAsJSON(contentType) && d.DecodeJSON(data) {
		return nil
	}
	return g.host.Unmarshal(contentType, data, v)
}

// A BodyDecoder is a request body that decodes its own JSON text without
// reflection (incident.CreateIncidentRequest). DecodeJSON decodes data as
// json.Unmarshal would and reports whether it did; when it reports false
// it has changed nothing, and encoding/json (the host's format) decodes
// the text instead, errors and all. It takes only the plain valid JSON
// on which every JSON decoder agrees: keys spelled exactly and once, no
// null, values of the fields' types.
type BodyDecoder interface {
	DecodeJSON(data []byte) bool
}

// decodeProbe is JSON whose decoding into an any shows how a format
// differs from encoding/json, if it does: numbers (floats, not
// json.Number), escapes, invalid UTF-8, a repeated key (the last wins),
// empty and nested containers, null.
const decodeProbe = `{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude97 é","bad":"` + "\xff\xfe" + `","f":1.5e-7,"i":-9007199254740993,"z":-0,` +
	`"b":true,"n":null,"a":[1.25,"x",false,null,{},[]],"e":[],"m":{"z":1,"a":["y"]},"d":1,"d":2}`

// decodesAsJSON reports whether the host's format for contentType decodes
// JSON into an any as encoding/json does, found once per content type by
// decoding decodeProbe both ways.
func (g *Guest) decodesAsJSON(contentType string) bool {
	if same, ok := g.sameDecode.Load(contentType); ok {
		return same.(bool)
	}
	var got, want any
	same := g.host.Unmarshal(contentType, []byte(decodeProbe), &got) == nil &&
		json.Unmarshal([]byte(decodeProbe), &want) == nil && reflect.DeepEqual(got, want)
	if tree, ok := decodeAny([]byte(decodeProbe)); !ok || !reflect.DeepEqual(tree, want) {
		same = false // decodeAny itself must agree; TestDecodeAny holds it to that
	}
	g.sameDecode.Store(contentType, same)
	return same
}

// maxDecodeDepth is how deeply decodeAny follows nested objects and arrays
// before it leaves the text to the host's format (encoding/json stops at
// 10,000 levels; Sety's bodies have at most MaxDepth).
const maxDecodeDepth = MaxDepth + 1

// decodeAny decodes the JSON text data into what json.Unmarshal gives an
// any: map[string]any, []any, float64, string, bool or nil. It reports
// false, and leaves the text to encoding/json, for anything else: text
// that is not JSON, a number out of float64's range, more than
// maxDecodeDepth levels. It reads the text once and does not first check
// it whole, as json.Unmarshal does.
func decodeAny(data []byte) (any, bool) {
	d := anyDecoder{data: data}
	v, ok := d.value(0)
	if !ok || d.space() != 0 || d.pos != len(data) {
		return nil, false
	}
	return v, true
}

type anyDecoder struct {
	data []byte
	pos  int
	// text is data as one string, made at the first plain string: every
	// plain key and string value is a slice of it, one allocation for all
	// of them instead of one each (the tree only lives while huma
	// validates it, so it keeps the copy no longer than that).
	text string
}

// space skips JSON's whitespace and returns the next byte, or 0 at the end.
func (d *anyDecoder) space() byte {
	var c byte
	c, d.pos = skipSpace(d.data, d.pos)
	return c
}

func (d *anyDecoder) value(depth int) (any, bool) {
	switch d.space() {
	case '{':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		d.pos++
		return d.object(depth + 1)
	case '[':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		d.pos++
		return d.array(depth + 1)
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	return d.number()
}

func (d *anyDecoder) object(depth int) (any, bool) {
	m := map[string]any{}
	if d.space() == '}' {
		d.pos++
		return m, true
	}
	for {
		if d.space() != '"' {
			return nil, false
		}
		key, ok := d.str()
		if !ok || d.space() != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[key] = v
		switch d.space() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *anyDecoder) array(depth int) (any, bool) {
	if d.space() == ']' {
		d.pos++
		return make([]any, 0), true // empty, not nil, as encoding/json gives it
	}
	// Room for two first: a body's arrays are mostly coordinates, which
	// then take one allocation, not two.
	a := make([]any, 0, 2)
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		switch d.space() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, true
		default:
			return nil, false
		}
	}
}

// str decodes the string at d.pos (its opening quote). One with escapes
// or bytes past ASCII that are not valid UTF-8 is decoded by
// encoding/json, which undoes the escapes and replaces invalid UTF-8.
func (d *anyDecoder) str() (string, bool) {
	start := d.pos
	plain := true
	for i := start + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			text := d.data[start+1 : i]
			if plain && utf8.Valid(text) {
				if d.text == "" {
					d.text = string(d.data)
				}
				return d.text[start+1 : i], true
			}
			var s string
			if json.Unmarshal(d.data[start:d.pos], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			i++ // the escaped byte cannot end the string; encoding/json checks the escape
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (d *anyDecoder) literal(word string) bool {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return false
	}
	d.pos += len(word)
	return true
}

// number decodes a number as JSON writes one, into a float64 as
// encoding/json does (strconv.ParseFloat); out of range is left to it.
func (d *anyDecoder) number() (any, bool) {
	w := keyScan{data: d.data, pos: d.pos}
	if w.number() != nil {
		return nil, false
	}
	f, err := strconv.ParseFloat(string(d.data[d.pos:w.pos]), 64)
	if err != nil {
		return nil, false
	}
	d.pos = w.pos
	return f, true
}
