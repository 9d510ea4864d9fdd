package incident_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/jsonmutate"
)

// createBody is bench/http.sh's create body.
const createBody = `{"category":"vehicle","severity":"high","title":"Vehicle emergency reported by rider","description":"Rider reports the driver left the agreed route and stopped in an unlit street.","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m","vehicle_plate":"LND-482-KJ"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":"Opposite the filling station"}}`

// decodeBodies are texts DecodeJSON must decode (true) as json.Unmarshal
// does, or leave to it (false).
var decodeBodies = []struct {
	text string
	fast bool
}{
	{createBody, true},
	{`{"category":"sos","location":{"coordinates":[-0,1e-7]}}`, true},
	{` { "category" : "sos" , "is_drill" : true , "location" : { "coordinates" : [ -180 , 90.0E+0 ] } } ` + "\n", true},
	{`{"is_drill":false,"idempotency_key":"k","subject":{},"location":{}}`, true},
	{`{"subject":{"metadata":{}}}`, true},
	{`{"subject":{"metadata":{"a":"1","a":"2","\u00e9\n":"x\"y","":"é"}}}`, true},
	{`{"title":"a\\b\u2028\ud83d\ude97","description":"` + "\xff\xfe" + `"}`, true},
	{`{}`, true},
	{`{"Title":"case"}`, false},
	{`{"title":"a","title":"b"}`, false},
	{`{"subject":{"name":"a"},"subject":{"phone":"b"}}`, false},
	{`{"unknown":1}`, false},
	{`{"title":null}`, false},
	{`{"subject":null}`, false},
	{`{"subject":{"metadata":null}}`, false},
	{`{"subject":{"metadata":{"a":1}}}`, false},
	{`{"location":{"coordinates":[1]}}`, false},
	{`{"location":{"coordinates":[1,2,3]}}`, false},
	{`{"location":{"coordinates":[1e400,2]}}`, false},
	{`{"location":{"coordinates":[01,2]}}`, false},
	{`{"location":{"coordinates":[1.,2]}}`, false},
	{`{"location":{"coordinates":[-,2]}}`, false},
	{`{"location":{"coordinates":[NaN,2]}}`, false},
	{`{"is_drill":"true"}`, false},
	{`{"is_drill":truex}`, false},
	{`{"title":"a"}x`, false},
	{`{"title":"a"}` + "\x00", false},
	{`{"title":"a",}`, false},
	{`{"title":"a` + "\n" + `"}`, false},
	{`{"title":"\x"}`, false},
	{`{"title":5}`, false},
	{`[]`, false},
	{``, false},
	{`{"title":"a"`, false},
}

func TestDecodeJSONIsUnmarshal(t *testing.T) {
	for _, c := range decodeBodies {
		if got := checkDecodeJSON(t, []byte(c.text)); got != c.fast {
			t.Errorf("DecodeJSON(%q) = %v, want %v", c.text, got, c.fast)
		}
	}
	// Mutated bodies: a byte changed, dropped or repeated, anywhere.
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := `{}[]":,.-+eE019 \nabtrufsln` + "\x00\xff"
	fast := 0
	for range 40000 {
		b := jsonmutate.Mutate(rnd, createBody, alphabet)
		if checkDecodeJSON(t, b) {
			fast++
		}
	}
	if fast == 0 {
		t.Error("no mutated body was decoded by DecodeJSON")
	}
}

func FuzzDecodeJSONIsUnmarshal(f *testing.F) {
	for _, c := range decodeBodies {
		f.Add([]byte(c.text))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkDecodeJSON(t, text) })
}

// checkDecodeJSON fails t unless DecodeJSON either decodes text as
// json.Unmarshal does, without error, or leaves the request as it was. It
// reports whether DecodeJSON decoded it.
func checkDecodeJSON(t *testing.T, text []byte) bool {
	t.Helper()
	var got incident.CreateIncidentRequest
	if !got.DecodeJSON(text) {
		if !reflect.DeepEqual(got, incident.CreateIncidentRequest{}) {
			t.Errorf("DecodeJSON(%q) failed and changed the request: %+v", text, got)
		}
		return false
	}
	var want incident.CreateIncidentRequest
	if err := json.Unmarshal(text, &want); err != nil {
		t.Errorf("DecodeJSON(%q) decoded what json.Unmarshal refuses: %v", text, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeJSON(%q) = %+v, json.Unmarshal %+v", text, got, want)
	}
	set := incident.CreateIncidentRequest{Title: "set"}
	if set.DecodeJSON(text) {
		t.Errorf("DecodeJSON(%q) decoded into a request that was not the zero value", text)
	}
	return true
}

// BenchmarkDecodeJSON compares DecodeJSON with json.Unmarshal on
// bench/http.sh's create body:
//
//	go test ./incident -run '^$' -bench DecodeJSON -benchmem -cpu 1
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(createBody)
	b.Run("DecodeJSON", func(b *testing.B) {
		for b.Loop() {
			var r incident.CreateIncidentRequest
			if !r.DecodeJSON(body) {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var r incident.CreateIncidentRequest
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
