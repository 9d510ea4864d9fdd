package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/setyerr"
)

// keyScanBody is a request body's shape with what checkKeys follows: nested
// objects, a nullable one, a map (additional properties), arrays of objects
// and of numbers.
type keyScanBody struct {
	Category string            `json:"category"`
	Subject  *keyScanSubject   `json:"subject,omitempty"`
	Location keyScanLocation   `json:"location"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Stops    []keyScanLocation `json:"stops,omitempty"`
	Scopes   []string          `json:"scopes,omitempty"`
}

type keyScanSubject struct {
	Name     string            `json:"name"`
	Phone    string            `json:"phone,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

type keyScanLocation struct {
	Coordinates []float64 `json:"coordinates"`
	Address     string    `json:"address,omitempty"`
}

func keyScanSchema(t testing.TB) (huma.Registry, *huma.Schema) {
	t.Helper()
	reg := huma.NewMapRegistry(SchemasRef, huma.DefaultSchemaNamer)
	return reg, reg.Schema(reflect.TypeFor[keyScanBody](), true, "")
}

// tokenKeys is the walk of encoding/json's tokens that checkKeys replaced:
// the reference its answers are held to.
func tokenKeys(body []byte, reg huma.Registry, s *huma.Schema) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := tokenWalk{dec: dec, scan: keyScan{reg: reg}}
	return w.value(s)
}

type tokenWalk struct {
	dec  *json.Decoder
	scan keyScan // for its path and property
}

func (w *tokenWalk) value(s *huma.Schema) error {
	s = resolve(w.scan.reg, s)
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for w.dec.More() {
			keyTok, err := w.dec.Token()
			if err != nil {
				return err
			}
			key := keyTok.(string)
			if seen[key] {
				return setyerr.Invalidf(w.scan.at(key), "appears twice")
			}
			seen[key] = true
			p, err := w.scan.property(s, []byte(key))
			if err != nil {
				return err
			}
			w.scan.path = append(w.scan.path, pathElem{key: []byte(key)})
			err = w.value(p)
			w.scan.path = w.scan.path[:len(w.scan.path)-1]
			if err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
		return err
	case json.Delim('['):
		var items *huma.Schema
		if s != nil {
			items = s.Items
		}
		for i := 0; w.dec.More(); i++ {
			w.scan.path = append(w.scan.path, pathElem{index: i, isIndex: true})
			err := w.value(items)
			w.scan.path = w.scan.path[:len(w.scan.path)-1]
			if err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
		return err
	}
	return nil
}

// verdict is what StrictBody makes of a key check: the Invalid error's
// text, or "" (the body goes on to huma).
func verdict(err error) string {
	var invalid *setyerr.Error
	if errors.As(err, &invalid) {
		return invalid.Error()
	}
	return ""
}

var keyScanSeeds = []string{
	`{"category":"vehicle","subject":{"name":"Amaka Obi","phone":"+2348012345678","metadata":{"trip_id":"trp_9x2k4m"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street"}}`,
	`{"category":"sos","CATEGORY":"medical"}`,
	`{"category":"sos","category":"medical"}`,
	`{"subject":{"NAME":"x"}}`,
	`{"subject":null,"location":{"coordinates":[1e3,-0.5E-2,0],"Address":"x"}}`,
	`{"metadata":{"a":"1","a":"2"}}`,
	`{"metadata":{"Category":"1"}}`,
	`{"stops":[{"address":"a"},{"ADDRESS":"b"}]}`,
	`{"stops":[{"address":"a","address":"b"}]}`,
	`{"scopes":["a",{"x":1,"x":2}]}`,
	`{"unknown":{"deep":[{"k":1,"k":2}]}}`,
	`{"\u0063ategory":"a","category":"b"}`,
	`{"c\u0041tegory":"a"}`,
	`{"catégory":"a","CATÉGORY":"b"}`,
	"{\"categ\xffory\":1,\"categ\xfeory\":2}",
	`{"category":"a\"b\\c\/d\b\f\n\r\t\u00e9","subject":{"name":"\ud83d\ude00"}}`,
	`  {  "category" : "x" , "Subject" : { } }  `,
	`{"category":"x"} {"CATEGORY":1}`,
	`[{"category":1,"category":2}]`,
	`"category"`, `12`, `-0.0e+1`, `true`, `null`, `[]`, `{}`, ``, `{`, `{"`, `{"a"`, `{"a":`, `{"a":1`,
	`{"a":01,"a":2}`, `{"a":1.,"a":2}`, `{"a":-,"a":2}`, `{"a":1e,"a":2}`, `{"a":tru,"a":2}`,
	`{"a":1"a":2}`, `{"a":1,,"a":2}`, `{,"a":1}`, `{"a" 1,"a":2}`, `{"a":[1,],"a":2}`, `{"a":[,1],"a":2}`,
	"{\"a\x01\":1,\"a\x01\":2}", `{"a\x":1,"a\x":2}`, `{"a\u12":1}`, `{"CATEGORY"`, `{"a":1,"a"`,
	`{"category":"x","subject":{"name":"y","metadata":{"k1":"1","k2":"2","k3":"3","k4":"4","k5":"5","k6":"6","k7":"7","k8":"8","k9":"9","k10":"10","k11":"11","k12":"12","k13":"13","k14":"14","k15":"15","k16":"16","k17":"17","k18":"18","k3":"again"}}}`,
}

// TestKeyScanAgreesWithTokens holds checkKeys to the answers of the token
// walk it replaced, on the seeds and on many mutations of them: the same
// Invalid error (field and message) for the same body, or none.
func TestKeyScanAgreesWithTokens(t *testing.T) {
	reg, schema := keyScanSchema(t)
	check := func(body []byte) {
		t.Helper()
		got, want := verdict(checkKeys(body, reg, schema)), verdict(tokenKeys(body, reg, schema))
		if got != want {
			t.Fatalf("checkKeys(%q) = %q, the token walk says %q", body, got, want)
		}
	}
	for _, s := range keyScanSeeds {
		check([]byte(s))
	}
	rng := rand.New(rand.NewPCG(25, 3))
	alphabet := []byte(`{}[]":,\ aAcC01-.eE+tfnu` + "\x00\x1f\x80\xff\t")
	for range 40_000 {
		body := []byte(keyScanSeeds[rng.IntN(len(keyScanSeeds))])
		for range 1 + rng.IntN(3) {
			i := 0
			if len(body) > 0 {
				i = rng.IntN(len(body))
			}
			switch c := alphabet[rng.IntN(len(alphabet))]; rng.IntN(4) {
			case 0: // insert
				body = append(body[:i], append([]byte{c}, body[i:]...)...)
			case 1: // delete
				if len(body) > 0 {
					body = append(body[:i], body[i+1:]...)
				}
			case 2: // replace
				if len(body) > 0 {
					body[i] = c
				}
			default: // change a letter's case
				if len(body) > 0 {
					body[i] = []byte(strings.ToUpper(string(body[i])))[0]
				}
			}
		}
		check(body)
	}
}

func FuzzKeyScan(f *testing.F) {
	for _, s := range keyScanSeeds {
		f.Add([]byte(s))
	}
	reg, schema := keyScanSchema(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, want := verdict(checkKeys(body, reg, schema)), verdict(tokenKeys(body, reg, schema))
		if got != want {
			t.Fatalf("checkKeys(%q) = %q, the token walk says %q", body, got, want)
		}
	})
}

// TestKeyScanManyKeys: an object of many keys finds a repeat far from its
// first appearance, and a body of 100,000 distinct keys is checked without
// comparing every key with every other.
func TestKeyScanManyKeys(t *testing.T) {
	reg, schema := keyScanSchema(t)
	key := func(i int) string { return "k" + strings.Repeat("x", i%7) + strconv.Itoa(i) }
	var b strings.Builder
	b.WriteString(`{"metadata":{`)
	for i := range 100_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + key(i) + `":"v"`)
	}
	body := b.String()
	if err := checkKeys([]byte(body+`}}`), reg, schema); err != nil {
		t.Fatalf("distinct keys: %v", err)
	}
	for _, i := range []int{0, 15, 16, 17, 99_999} {
		err := checkKeys([]byte(body+`,"`+key(i)+`":"again"}}`), reg, schema)
		if got, want := verdict(err), verdict(setyerr.Invalidf("metadata."+key(i), "appears twice")); got != want {
			t.Fatalf("key %d repeated after 100,000 keys: %q, want %q", i, got, want)
		}
	}
}

// BenchmarkCheckKeys compares the key check with the token walk it
// replaced on bench/http.sh's create body:
//
//	go test ./internal/httpapi -run '^$' -bench CheckKeys -benchmem -cpu 1
func BenchmarkCheckKeys(b *testing.B) {
	reg, schema := keyScanSchema(b)
	body := []byte(keyScanSeeds[0])
	for _, walk := range []struct {
		name  string
		check func([]byte, huma.Registry, *huma.Schema) error
	}{{"scan", checkKeys}, {"tokens", tokenKeys}} {
		b.Run(walk.name, func(b *testing.B) {
			for b.Loop() {
				if err := walk.check(body, reg, schema); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
