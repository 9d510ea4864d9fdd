package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
)

var decodeAnySeeds = append([]string{
	decodeProbe,
	`{"s":"\u0000\u001f\u2028 \ud800 \udfff \ud83d","num":[0,-0,0.5,-1e-400,1e308,1.7976931348623157e308,123456789012345678901234567890]}`,
	`{"big":1e400}`, `{"neg":-1e309}`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	" \t\r\n{} \n", `{}x`, `{} {}`, "\x00", `"\u12"`, `"\x"`, "\"a\x01\"", `"\`, `[1,2,]`,
}, keyScanSeeds...)

// decodeAnyAgrees fails t unless decodeAny(body) gives what json.Unmarshal
// gives an any, or gives up where json.Unmarshal fails (or sometimes where it
// does not: then the host's format decodes the body).
func decodeAnyAgrees(t *testing.T, body []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(body, &want)
	got, ok := decodeAny(body)
	switch {
	case ok && wantErr != nil:
		t.Fatalf("decodeAny(%q) = %#v, json.Unmarshal fails: %v", body, got, wantErr)
	case ok && !reflect.DeepEqual(got, want):
		t.Fatalf("decodeAny(%q) = %#v, json.Unmarshal gives %#v", body, got, want)
	}
}

// TestDecodeAny holds decodeAny to json.Unmarshal on the seeds and on many
// mutations of them, and checks that it decodes plain bodies itself.
func TestDecodeAny(t *testing.T) {
	for _, s := range decodeAnySeeds {
		decodeAnyAgrees(t, []byte(s))
	}
	for _, s := range []string{decodeProbe, keyScanSeeds[0], `{"metadata":{"a":"1","a":"2"}}`, `{"s":"é ☎ \ud83d\ude97"}`, `[]`, `-0.0e+1`} {
		if _, ok := decodeAny([]byte(s)); !ok {
			t.Errorf("decodeAny(%q) gives up on valid JSON", s)
		}
	}
	for _, s := range []string{`{"big":1e400}`, strings.Repeat("[", maxDecodeDepth+1) + strings.Repeat("]", maxDecodeDepth+1)} {
		if _, ok := decodeAny([]byte(s)); ok {
			t.Errorf("decodeAny(%.40q...) decodes what it should leave to encoding/json", s)
		}
	}
	rng := rand.New(rand.NewPCG(25, 4))
	alphabet := []byte(`{}[]":,\ aAcC01-.eE+tfnu9` + "\x00\x1f\x80\xff\t")
	for range 40_000 {
		body := []byte(decodeAnySeeds[rng.IntN(len(decodeAnySeeds))])
		for range 1 + rng.IntN(3) {
			i := 0
			if len(body) > 0 {
				i = rng.IntN(len(body))
			}
			switch c := alphabet[rng.IntN(len(alphabet))]; rng.IntN(3) {
			case 0:
				body = append(body[:i], append([]byte{c}, body[i:]...)...)
			case 1:
				if len(body) > 0 {
					body = append(body[:i], body[i+1:]...)
				}
			default:
				if len(body) > 0 {
					body[i] = c
				}
			}
		}
		decodeAnyAgrees(t, body)
	}
}

func FuzzDecodeAny(f *testing.F) {
	for _, s := range decodeAnySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(decodeAnyAgrees)
}

// The guest decodes a body into an any itself only where the host's format
// decodes as encoding/json does; a host whose format keeps numbers as
// json.Number gets its own decoding, and every error is the host's.
func TestGuestDecodesAnyOnlyWhereTheHostWouldDecodeTheSame(t *testing.T) {
	_, api := humatest.New(t) // huma's default formats
	g := NewGuest(api, "Sety", "sety-")
	var v any
	if err := g.Unmarshal("application/json", []byte(`{"n":1.5,"s":"x"}`), &v); err != nil || !reflect.DeepEqual(v, map[string]any{"n": 1.5, "s": "x"}) {
		t.Fatalf("huma's default JSON: %#v, %v", v, err)
	}
	if !g.decodesAsJSON("application/json") {
		t.Fatal("huma's default JSON format is not taken for encoding/json's")
	}
	bad := []byte(`{"n":1.5,}`)
	var want any
	wantErr := json.Unmarshal(bad, &want)
	if err := g.Unmarshal("application/json", bad, &v); err == nil || err.Error() != wantErr.Error() {
		t.Fatalf("invalid JSON: %v, want encoding/json's error %v", err, wantErr)
	}

	g = NewGuest(numbersHost(t), "Sety", "sety-")
	if err := g.Unmarshal("application/json", []byte(`{"n":1.5}`), &v); err != nil || !reflect.DeepEqual(v, map[string]any{"n": json.Number("1.5")}) {
		t.Fatalf("a host that keeps json.Number: %#v, %v; want its own decoding", v, err)
	}
}

// numbersHost is a host API whose JSON format keeps numbers as
// json.Number: it decodes unlike encoding/json.
func numbersHost(t *testing.T) huma.API {
	numbers := huma.DefaultConfig("numbers", "1.0.0")
	numbers.Formats = map[string]huma.Format{"application/json": {
		Marshal: func(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) },
		Unmarshal: func(data []byte, v any) error {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			return dec.Decode(v)
		},
	}}
	_, api := humatest.New(t, numbers)
	return api
}

// selfDecoding is a body that decodes itself: only {"n":1}, and says so.
type selfDecoding struct {
	N       int `json:"n"`
	decoded bool
}

func (s *selfDecoding) DecodeJSON(data []byte) bool {
	if string(data) != `{"n":1}` {
		return false
	}
	s.N, s.decoded = 1, true
	return true
}

// A body that is a BodyDecoder decodes itself where the host's format
// decodes as encoding/json does; what it does not take, and every body of
// a host with another format, the host's format decodes, errors and all.
func TestGuestLetsABodyDecodeItself(t *testing.T) {
	_, api := humatest.New(t)
	g := NewGuest(api, "Sety", "sety-")
	var got selfDecoding
	if err := g.Unmarshal("application/json", []byte(`{"n":1}`), &got); err != nil || !got.decoded || got.N != 1 {
		t.Fatalf("a body it takes: %+v, %v; want it decoded by DecodeJSON", got, err)
	}
	got = selfDecoding{}
	if err := g.Unmarshal("application/json", []byte(`{"n":2}`), &got); err != nil || got.decoded || got.N != 2 {
		t.Fatalf("a body it leaves: %+v, %v; want the host's decoding", got, err)
	}
	bad := []byte(`{"n":"x"}`)
	wantErr := json.Unmarshal(bad, &selfDecoding{})
	if err := g.Unmarshal("application/json", bad, &selfDecoding{}); err == nil || err.Error() != wantErr.Error() {
		t.Fatalf("a wrong type: %v, want encoding/json's error %v", err, wantErr)
	}

	g = NewGuest(numbersHost(t), "Sety", "sety-")
	got = selfDecoding{}
	if err := g.Unmarshal("application/json", []byte(`{"n":1}`), &got); err != nil || got.decoded || got.N != 1 {
		t.Fatalf("a host with its own format: %+v, %v; want the host's decoding", got, err)
	}
}

// BenchmarkDecodeAny compares decodeAny with json.Unmarshal into an any on
// bench/http.sh's create body:
//
//	go test ./internal/httpapi -run '^$' -bench DecodeAny -benchmem -cpu 1
func BenchmarkDecodeAny(b *testing.B) {
	body := []byte(keyScanSeeds[0])
	b.Run("decodeAny", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeAny(body); !ok {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeAnyCopiesTheTextOnce checks that decodeAny's plain strings,
// keys and values, share one copy of the text: the create body of
// keyScanSeeds (14 plain strings) decodes in the allocations of its four
// maps, the coordinates' array, the boxed values and that one copy, not
// one more per string, and the array made
// once (32 before).
func TestDecodeAnyCopiesTheTextOnce(t *testing.T) {
	body := []byte(keyScanSeeds[0])
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := decodeAny(body); !ok {
			t.Fatal("gave up")
		}
	})
	// 4 maps (each with its table), the array (made once, boxed), 7
	// boxed values (5 strings, 2 numbers), the text.
	if want := 4*2 + 2 + 7 + 1; allocs > float64(want) {
		t.Errorf("decodeAny allocates %v times for the create body, want at most %d", allocs, want)
	}
}
