package incidentapi

import (
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/internal/jsonmutate"
)

// checkBody is bench/http.sh's create body.
const checkBody = `{"category":"vehicle","severity":"high","title":"Vehicle emergency reported by rider","description":"Rider reports the driver left the agreed route and stopped in an unlit street.","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m","vehicle_plate":"LND-482-KJ"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":"Opposite the filling station"}}`

// createSchema is the create operation's body schema as Register documents
// it, and its registry.
func createSchema(t testing.TB) (huma.Registry, *huma.Schema) {
	t.Helper()
	_, api := humatest.New(t)
	Register(httpapi.NewGroup(api, httpapi.Shared{}), nil, slog.New(slog.DiscardHandler))
	op := api.OpenAPI().Paths["/incidents"].Post
	if !op.SkipValidateBody {
		t.Fatal("the create operation lets huma validate its body: createInput.Resolve would validate it twice")
	}
	return api.OpenAPI().Components.Schemas, op.RequestBody.Content["application/json"].Schema
}

// humaValid reports whether huma, validating the body, finds no error.
func humaValid(reg huma.Registry, schema *huma.Schema, text []byte) bool {
	var tree any
	if json.Unmarshal(text, &tree) != nil {
		return false
	}
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer(nil, 0)
	pb.Push("body")
	huma.Validate(reg, schema, pb, huma.ModeWriteToServer, tree, res)
	return len(res.Errors) == 0
}

// checkDecodeChecked fails t unless DecodeChecked takes text exactly when
// huma's validation finds no error in it and DecodeJSON decodes it (plain
// JSON), decoding it as json.Unmarshal does; and otherwise leaves the
// request unchanged. It reports whether DecodeChecked took it.
func checkDecodeChecked(t *testing.T, reg huma.Registry, schema *huma.Schema, text []byte) bool {
	t.Helper()
	var got incident.CreateIncidentRequest
	took := got.DecodeChecked(text)
	var plain incident.CreateIncidentRequest
	want := plain.DecodeJSON(text) && humaValid(reg, schema, text)
	switch {
	case took != want:
		t.Errorf("DecodeChecked(%q) = %v; huma's validation and DecodeJSON: %v", text, took, want)
	case !took && got != (incident.CreateIncidentRequest{}):
		t.Errorf("DecodeChecked(%q) refused the body and changed the request: %+v", text, got)
	case took:
		var unmarshaled incident.CreateIncidentRequest
		if err := json.Unmarshal(text, &unmarshaled); err != nil || !reflect.DeepEqual(got, unmarshaled) {
			t.Errorf("DecodeChecked(%q) = %+v; json.Unmarshal %+v, %v", text, got, unmarshaled, err)
		}
	}
	return took
}

// The checks are the schema's: every maxLength, enum and required property
// the schema states, found by walking it, at and past its limit; and
// 40,000 mutations of a create's body.
func TestDecodeCheckedIsHumasValidation(t *testing.T) {
	reg, schema := createSchema(t)
	with := func(path []string, v any, drop bool) []byte {
		var doc map[string]any
		_ = json.Unmarshal([]byte(checkBody), &doc)
		m := doc
		for _, k := range path[:len(path)-1] {
			m = m[k].(map[string]any)
		}
		if drop {
			delete(m, path[len(path)-1])
		} else {
			m[path[len(path)-1]] = v
		}
		text, _ := json.Marshal(doc)
		return text
	}
	var rules int
	var walk func(s *huma.Schema, path []string)
	walk = func(s *huma.Schema, path []string) {
		for s.Ref != "" {
			s = reg.SchemaFromRef(s.Ref)
		}
		for name, p := range s.Properties {
			at := append(append([]string{}, path...), name)
			walk(p, at)
		}
		for _, name := range s.Required {
			rules++
			checkDecodeChecked(t, reg, schema, with(append(append([]string{}, path...), name), nil, true))
		}
		if len(path) == 0 {
			return
		}
		if s.MaxLength != nil {
			rules++
			for _, n := range []int{*s.MaxLength, *s.MaxLength + 1} {
				for _, r := range []string{"a", "é"} {
					if took := checkDecodeChecked(t, reg, schema, with(path, strings.Repeat(r, n), false)); took != (n == *s.MaxLength) {
						t.Errorf("%s of %d characters %q: taken %v", strings.Join(path, "."), n, r, took)
					}
				}
			}
		}
		for _, v := range s.Enum {
			rules++
			checkDecodeChecked(t, reg, schema, with(path, v, false))
			checkDecodeChecked(t, reg, schema, with(path, v.(string)+"x", false))
			checkDecodeChecked(t, reg, schema, with(path, "", false))
		}
	}
	walk(schema, nil)
	if rules < 12 {
		t.Errorf("the walk found %d rules in the schema", rules)
	}
	for _, text := range []string{checkBody, `{"category":"sos","location":{"coordinates":[0,0]}}`,
		`{"category":"sos","location":{"coordinates":[1,2]},"severity":""}`, `{"category":"sos","location":{}}`,
		`{"category":"sos","location":{"coordinates":[1,2]},"subject":{"name":null}}`, `{"category":"sos","location":{"coordinates":[1,2]},"Title":"x"}`,
		`{"category":"sos","location":{"coordinates":[1,2]},"subject":{"metadata":{"a":1}}}`, `{"category":"sos"}`, `{}`, `null`, ``} {
		checkDecodeChecked(t, reg, schema, []byte(text))
	}

	rnd := rand.New(rand.NewPCG(3, 4))
	alphabet := `{}[]":,.-+eE019 \nabtrufsln` + "\x00\xff"
	took := 0
	for range 40000 {
		b := jsonmutate.Mutate(rnd, checkBody, alphabet)
		if checkDecodeChecked(t, reg, schema, b) {
			took++
		}
	}
	if took == 0 {
		t.Error("DecodeChecked took no mutated body")
	}
}

func FuzzDecodeCheckedIsHumasValidation(f *testing.F) {
	f.Add([]byte(checkBody))
	f.Add([]byte(`{"category":"sos","location":{"coordinates":[1,2]},"severity":""}`))
	reg, schema := createSchema(f)
	f.Fuzz(func(t *testing.T, text []byte) { checkDecodeChecked(t, reg, schema, text) })
}

// BenchmarkCreateBodyValidation compares a create body's way through huma
// (decoded into an any by the guest, validated, decoded again into the
// request) with DecodeChecked, on bench/http.sh's body:
//
//	go test ./incident/incidentapi -run '^$' -bench CreateBodyValidation -benchmem -cpu 1
func BenchmarkCreateBodyValidation(b *testing.B) {
	reg, schema := createSchema(b)
	_, host := humatest.New(b)
	g := httpapi.NewGuest(host, "Sety", "sety-")
	body := []byte(checkBody)
	b.Run("huma", func(b *testing.B) {
		pb := huma.NewPathBuffer(make([]byte, 0, 128), 0)
		res := &huma.ValidateResult{}
		for b.Loop() {
			var tree any
			if err := g.Unmarshal("application/json", body, &tree); err != nil {
				b.Fatal(err)
			}
			pb.Reset()
			pb.Push("body")
			res.Reset()
			huma.Validate(reg, schema, pb, huma.ModeWriteToServer, tree, res)
			var r incident.CreateIncidentRequest
			if len(res.Errors) > 0 || !r.DecodeJSON(body) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("DecodeChecked", func(b *testing.B) {
		for b.Loop() {
			var r incident.CreateIncidentRequest
			if !r.DecodeChecked(body) {
				b.Fatal("refused")
			}
		}
	})
}
