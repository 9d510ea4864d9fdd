package incident

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/sety-io/sety/geo"
)

// DecodeJSON decodes data, the JSON text of a create-incident request, into
// r as json.Unmarshal would, field by field instead of through reflection,
// and reports whether it did. huma decodes a body twice, once into an any
// to validate it and once into the input struct; the second was about a
// tenth of a create's request path.
//
// It takes only plain JSON in which every key spells a field of r exactly
// and at most once in its object, every value has its field's JSON type
// (no null), and the coordinates are two numbers. For anything else (a key
// in another case, an unknown or repeated key, null, a number out of
// float64's range, text that is not JSON) it reports false and leaves r
// unchanged, so that encoding/json decodes the text, errors and all. r
// must be the zero value (else false): encoding/json would merge into it.
// Strings with escapes or invalid UTF-8 are decoded by encoding/json.
// TestDecodeJSONIsUnmarshal and FuzzDecodeJSONIsUnmarshal hold it to
// json.Unmarshal.
func (r *CreateIncidentRequest) DecodeJSON(data []byte) bool {
	if *r != (CreateIncidentRequest{}) {
		return false
	}
	out, _, ok := decodeCreate(data)
	if ok {
		*r = out
	}
	return ok
}

// present records which keys a create's text held: a required key with a
// zero value is there, a missing one is not (the schema checks tell them
// apart).
type present struct{ top, location uint8 }

// The bits of present.
const (
	hasCategory    = 1
	hasLocation    = 2
	hasSeverity    = 4
	hasCoordinates = 1 // in present.location
)

// decodeCreate decodes data as DecodeJSON describes.
func decodeCreate(data []byte) (CreateIncidentRequest, present, bool) {
	d := textDecoder{data: data}
	var out CreateIncidentRequest
	var seen present
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "category":
			s, ok := d.str()
			out.Category = Category(s)
			return ok && once(&seen.top, hasCategory)
		case "location":
			return d.location(&out.Location, &seen.location) && once(&seen.top, hasLocation)
		case "severity":
			s, ok := d.str()
			out.Severity = Severity(s)
			return ok && once(&seen.top, hasSeverity)
		case "subject":
			out.Subject = &Subject{}
			return d.subject(out.Subject) && once(&seen.top, 8)
		case "title":
			return d.into(&out.Title) && once(&seen.top, 16)
		case "description":
			return d.into(&out.Description) && once(&seen.top, 32)
		case "idempotency_key":
			return d.into(&out.IdempotencyKey) && once(&seen.top, 64)
		case "is_drill":
			b, ok := d.boolean()
			out.IsDrill = b
			return ok && once(&seen.top, 128)
		}
		return false
	})
	if d.space(); !ok || d.pos != len(d.data) {
		return CreateIncidentRequest{}, present{}, false
	}
	return out, seen, true
}

// once records bit in seen and reports whether it was not there yet.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

func (d *textDecoder) location(l *Location, seen *uint8) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "coordinates":
			return d.point(&l.Coordinates) && once(seen, hasCoordinates)
		case "address":
			return d.into(&l.Address) && once(seen, 2)
		case "landmark":
			return d.into(&l.Landmark) && once(seen, 4)
		}
		return false
	})
}

func (d *textDecoder) subject(s *Subject) bool {
	var seen uint8
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			return d.optional(&s.Name) && once(&seen, 1)
		case "phone":
			return d.optional(&s.Phone) && once(&seen, 2)
		case "email":
			return d.optional(&s.Email) && once(&seen, 4)
		case "reference":
			return d.optional(&s.Reference) && once(&seen, 8)
		case "metadata":
			s.Metadata = map[string]string{}
			return d.metadata(s.Metadata) && once(&seen, 16)
		}
		return false
	})
}

// metadata reads an object of strings into m; a repeated key's last value
// wins, as with encoding/json.
func (d *textDecoder) metadata(m map[string]string) bool {
	return d.object(func(key []byte) bool {
		k, ok := d.keyString(key)
		if !ok {
			return false
		}
		v, ok := d.str()
		m[k] = v
		return ok
	})
}

// point reads an array of exactly two numbers.
func (d *textDecoder) point(p *geo.Point) bool {
	if d.space() != '[' {
		return false
	}
	d.pos++
	for i := range p {
		if i > 0 {
			if d.space() != ',' {
				return false
			}
			d.pos++
		}
		f, ok := d.number()
		if !ok {
			return false
		}
		p[i] = f
	}
	if d.space() != ']' {
		return false
	}
	d.pos++
	return true
}

// textDecoder reads one JSON text, strictly: it fails wherever the text
// is not JSON, and at anything its caller does not expect.
type textDecoder struct {
	data []byte
	pos  int
	// keyStart is where the key object last passed to its callback starts
	// (its opening quote): a map key with escapes is decoded from there.
	keyStart int
}

// space skips JSON's whitespace and returns the next byte, or 0 at the end.
func (d *textDecoder) space() byte {
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// object reads an object, calling field with each key's raw text (between
// its quotes) once the reader is at the key's value, which field reads.
func (d *textDecoder) object(field func(key []byte) bool) bool {
	if d.space() != '{' {
		return false
	}
	d.pos++
	if d.space() == '}' {
		d.pos++
		return true
	}
	for {
		if d.space() != '"' {
			return false
		}
		start := d.pos
		end, plain := d.stringEnd()
		if end < 0 {
			return false
		}
		d.pos = end + 1
		if d.space() != ':' {
			return false
		}
		d.pos++
		d.keyStart = start
		key := d.data[start+1 : end]
		if !plain {
			key = nil // matches no field; keyString decodes it for a map
		}
		if !field(key) {
			return false
		}
		switch d.space() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return true
		default:
			return false
		}
	}
}

// keyString returns the key last passed to object's callback as a Go
// string: its raw text, or encoding/json's decoding of it when it has
// escapes or invalid UTF-8 (raw is then nil).
func (d *textDecoder) keyString(raw []byte) (string, bool) {
	if raw != nil && utf8.Valid(raw) {
		return string(raw), true
	}
	end, _ := (&textDecoder{data: d.data, pos: d.keyStart}).stringEnd()
	var s string
	if end < 0 || json.Unmarshal(d.data[d.keyStart:end+1], &s) != nil {
		return "", false
	}
	return s, true
}

// stringEnd returns the index of the closing quote of the string that
// starts at d.pos, and whether the string has no escapes; -1 if it does
// not end or holds a control character.
func (d *textDecoder) stringEnd() (int, bool) {
	plain := true
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			return i, plain
		case c == '\\':
			plain = false
			i++ // the escaped byte cannot end the string; encoding/json checks the escape
		case c < 0x20:
			return -1, false
		}
	}
	return -1, false
}

// str reads a string value.
func (d *textDecoder) str() (string, bool) {
	if d.space() != '"' {
		return "", false
	}
	start := d.pos
	end, plain := d.stringEnd()
	if end < 0 {
		return "", false
	}
	d.pos = end + 1
	if text := d.data[start+1 : end]; plain && utf8.Valid(text) {
		return string(text), true
	}
	var s string
	if json.Unmarshal(d.data[start:d.pos], &s) != nil {
		return "", false
	}
	return s, true
}

func (d *textDecoder) into(s *string) bool {
	v, ok := d.str()
	*s = v
	return ok
}

func (d *textDecoder) optional(s **string) bool {
	v, ok := d.str()
	*s = &v
	return ok
}

func (d *textDecoder) boolean() (bool, bool) {
	d.space()
	for _, word := range [...]string{"true", "false"} {
		if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
			d.pos += len(word)
			return word == "true", true
		}
	}
	return false, false
}

// number reads a number as JSON writes one into a float64, as
// encoding/json does (strconv.ParseFloat); false out of range.
func (d *textDecoder) number() (float64, bool) {
	d.space()
	start, i, n := d.pos, d.pos, len(d.data)
	digits := func() bool {
		from := i
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		return i > from
	}
	if i < n && d.data[i] == '-' {
		i++
	}
	switch {
	case i < n && d.data[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < n && d.data[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < n && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < n && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(d.data[start:i]), 64)
	if err != nil {
		return 0, false
	}
	d.pos = i
	return f, true
}
