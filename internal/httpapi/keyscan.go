package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// errNotJSON stops a key check at the first byte that is not JSON: the
// body's decoders say what is wrong with it.
var errNotJSON = errors.New("not JSON")

// checkKeys checks every object key of the JSON text body against the
// properties of s (resolved through reg), down to where the schema stops
// describing properties. It returns the first key, in the order of the
// text, that repeats a key of its object or matches a property only when
// case is ignored, as an Invalid error naming it; or errNotJSON at text
// before it that is not JSON (the decoders then say what is wrong).
//
// It reads the text once, byte by byte, and allocates only for a key with
// escapes or bytes past ASCII and for an object of many keys: the walk of
// encoding/json's tokens it replaces cost a create a twentieth of its CPU.
// TestKeyScanAgreesWithTokens holds it to that walk's answers.
func checkKeys(body []byte, reg huma.Registry, s *huma.Schema) error {
	w := scans.Get().(*keyScan)
	w.data, w.pos, w.reg = body, 0, reg
	err := w.value(s)
	clear(w.path[:cap(w.path)])
	clear(w.keys[:cap(w.keys)])
	w.data, w.reg, w.path, w.keys = nil, nil, w.path[:0], w.keys[:0]
	scans.Put(w)
	return err
}

// scans keeps walks' stacks for the next body: a walk's path and keys
// would otherwise be allocated for every request.
var scans = sync.Pool{New: func() any { return &keyScan{path: make([]pathElem, 0, 8), keys: make([][]byte, 0, 32)} }}

// keyScan walks one JSON text. It keeps where it is as a stack of path
// elements and spells the path out only for an error: building it at every
// level would cost the square of the depth. keys holds the keys of the
// objects being walked, each object's after its parent's.
type keyScan struct {
	data []byte
	pos  int
	reg  huma.Registry
	path []pathElem
	keys [][]byte
}

// pathElem is an object key, or an array index.
type pathElem struct {
	key     []byte
	index   int
	isIndex bool
}

// manyKeys is how many keys an object may have before its repeats are
// found through a map rather than by comparing with every earlier key.
const manyKeys = 16

// at is the current path with key appended, as errors name fields
// ("subject.metadata.a", "scopes[0]").
func (w *keyScan) at(key string) string {
	var b strings.Builder
	for _, e := range w.path {
		if e.isIndex {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(e.key)
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(key)
	return b.String()
}

// space skips JSON's whitespace and returns the next byte, or 0 at the end.
func (w *keyScan) space() byte {
	var c byte
	c, w.pos = skipSpace(w.data, w.pos)
	return c
}

// skipSpace returns the first byte of data at or after pos that is not
// JSON whitespace and its position, or 0 and len(data) at the end.
func skipSpace(data []byte, pos int) (byte, int) {
	for ; pos < len(data); pos++ {
		switch c := data[pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c, pos
		}
	}
	return 0, pos
}

// value reads one JSON value and checks the keys in it against s.
func (w *keyScan) value(s *huma.Schema) error {
	switch w.space() {
	case '{':
		w.pos++
		return w.object(resolve(w.reg, s))
	case '[':
		w.pos++
		var items *huma.Schema
		if s = resolve(w.reg, s); s != nil {
			items = s.Items
		}
		if w.space() == ']' {
			w.pos++
			return nil
		}
		for i := 0; ; i++ {
			w.path = append(w.path, pathElem{index: i, isIndex: true})
			err := w.value(items)
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
			switch w.space() {
			case ',':
				w.pos++
			case ']':
				w.pos++
				return nil
			default:
				return errNotJSON
			}
		}
	case '"':
		_, _, err := w.str()
		return err
	case 't':
		return w.literal("true")
	case 'f':
		return w.literal("false")
	case 'n':
		return w.literal("null")
	}
	return w.number()
}

// object reads the members of an object whose { has been read.
func (w *keyScan) object(s *huma.Schema) error {
	first := len(w.keys)
	defer func() {
		clear(w.keys[first:])
		w.keys = w.keys[:first]
	}()
	var seen map[string]bool // past manyKeys keys
	if w.space() == '}' {
		w.pos++
		return nil
	}
	for {
		if w.space() != '"' {
			return errNotJSON
		}
		raw, escaped, err := w.str()
		if err != nil {
			return err
		}
		key := raw[1 : len(raw)-1]
		if escaped {
			// What encoding/json makes of it: escapes undone, and
			// invalid UTF-8 replaced.
			var k string
			if json.Unmarshal(raw, &k) != nil {
				return errNotJSON
			}
			key = []byte(k)
		}
		if err := w.remember(key, first, &seen); err != nil {
			return err
		}
		p, err := w.property(s, key)
		if err != nil {
			return err
		}
		if w.space() != ':' {
			return errNotJSON
		}
		w.pos++
		w.path = append(w.path, pathElem{key: key})
		err = w.value(p)
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
		switch w.space() {
		case ',':
			w.pos++
		case '}':
			w.pos++
			return nil
		default:
			return errNotJSON
		}
	}
}

// remember records key among the keys of the object whose keys start at
// first, or answers that it appears twice.
func (w *keyScan) remember(key []byte, first int, seen *map[string]bool) error {
	if *seen == nil {
		for _, k := range w.keys[first:] {
			if bytes.Equal(k, key) {
				return setyerr.Invalidf(w.at(string(key)), "appears twice")
			}
		}
		if len(w.keys)-first < manyKeys {
			w.keys = append(w.keys, key)
			return nil
		}
		*seen = make(map[string]bool, 2*manyKeys)
		for _, k := range w.keys[first:] {
			(*seen)[string(k)] = true
		}
	}
	if (*seen)[string(key)] {
		return setyerr.Invalidf(w.at(string(key)), "appears twice")
	}
	(*seen)[string(key)] = true
	return nil
}

// property returns the schema of key inside s, or nil when s says nothing
// of it (huma's validation then judges the key). A key that matches a
// property only when case is ignored is an Invalid error naming it and the
// spelling it must have.
func (w *keyScan) property(s *huma.Schema, key []byte) (*huma.Schema, error) {
	if s == nil {
		return nil, nil
	}
	if p, ok := s.Properties[string(key)]; ok {
		return p, nil
	}
	for name := range s.Properties {
		if strings.EqualFold(name, string(key)) {
			return nil, setyerr.Invalidf(w.at(string(key)), "unknown field: names are case-sensitive, did you mean %q?", name)
		}
	}
	if extra, ok := s.AdditionalProperties.(*huma.Schema); ok {
		return extra, nil
	}
	return nil, nil
}

// str reads a string at w.pos (its opening quote) and returns its text,
// quotes included, and whether it needs decoding (an escape, or a byte
// past ASCII, which encoding/json replaces when it is not UTF-8).
func (w *keyScan) str() (raw []byte, escaped bool, err error) {
	start := w.pos
	for i := start + 1; i < len(w.data); i++ {
		switch c := w.data[i]; {
		case c == '"':
			w.pos = i + 1
			return w.data[start:w.pos], escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(w.data) {
				return nil, false, errNotJSON
			}
			i++
			switch w.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(w.data) {
					return nil, false, errNotJSON
				}
				for _, h := range w.data[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, errNotJSON
					}
				}
				i += 4
			default:
				return nil, false, errNotJSON
			}
		case c < 0x20:
			return nil, false, errNotJSON
		case c >= 0x80:
			escaped = true
		}
	}
	return nil, false, errNotJSON
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal reads true, false or null.
func (w *keyScan) literal(word string) error {
	if !bytes.HasPrefix(w.data[w.pos:], []byte(word)) {
		return errNotJSON
	}
	w.pos += len(word)
	return nil
}

// number reads a number as JSON writes one: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (w *keyScan) number() error {
	d, i := w.data, w.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = digits(d, i)
	default:
		return errNotJSON
	}
	if i < len(d) && d[i] == '.' {
		if j := digits(d, i+1); j > i+1 {
			i = j
		} else {
			return errNotJSON
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return errNotJSON
		}
		i = j
	}
	w.pos = i
	return nil
}

// digits returns where the run of digits starting at i ends.
func digits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}
