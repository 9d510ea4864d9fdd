package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety/internal/jsonmutate"
)

// checkedBody checks itself the way a CheckedBody does, for a few texts
// only (checkedTexts): every other text takes ResolveBody's other way.
type checkedBody struct {
	Name  string    `json:"name" maxLength:"5"`
	Kind  string    `json:"kind,omitempty" enum:"a,b"`
	Point []float64 `json:"point" minItems:"2" maxItems:"2"`
	Note  *string   `json:"note,omitempty" required:"false" maxLength:"3"`
	Tags  []string  `json:"tags,omitempty"`
}

// plainBody is checkedBody without its method: huma validates it.
type plainBody checkedBody

var checkedTexts = map[string]checkedBody{
	`{"name":"ab","point":[1,2]}`:                       {Name: "ab", Point: []float64{1, 2}},
	`{"name":"abcde","kind":"b","point":[1,2.5e-1]}`:    {Name: "abcde", Kind: "b", Point: []float64{1, 0.25}},
	`{"name":"","point":[0,0],"tags":["x"],"kind":"a"}`: {Name: "", Kind: "a", Point: []float64{0, 0}, Tags: []string{"x"}},
}

func (b *checkedBody) DecodeChecked(data []byte) bool {
	v, ok := checkedTexts[string(data)]
	if ok {
		*b = v
	}
	return ok
}

type checkedInput struct{ Body checkedBody }

func (in *checkedInput) Resolve(ctx huma.Context) []error { return ResolveBody(ctx, &in.Body) }

type plainInput struct{ Body plainBody }

// bodyAPI is a host with a guest's two operations on the same body:
// POST /checked resolves it with ResolveBody, POST /plain is validated by
// huma. Both answer the body they decoded.
func bodyAPI(t *testing.T, strict bool) humatest.TestAPI {
	t.Helper()
	InstallErrorFormat()
	log := slog.New(slog.DiscardHandler)
	_, host := humatest.New(t)
	g := NewGuest(host, "Sety", "sety-")
	grp := NewGroup(g, Shared{})
	if strict {
		grp.UseMiddleware(StrictBody(g, log))
	}
	huma.Register(grp, huma.Operation{OperationID: "checked", Method: http.MethodPost, Path: "/checked", SkipValidateBody: true},
		func(_ context.Context, in *checkedInput) (*Output[checkedBody], error) {
			return &Output[checkedBody]{Body: in.Body}, nil
		})
	huma.Register(grp, huma.Operation{OperationID: "plain", Method: http.MethodPost, Path: "/plain"},
		func(_ context.Context, in *plainInput) (*Output[plainBody], error) {
			return &Output[plainBody]{Body: in.Body}, nil
		})
	if err := g.Commit("/"); err != nil {
		t.Fatal(err)
	}
	return host
}

// A body resolved with ResolveBody gets huma's answer, whatever it is:
// the same status and the same bytes as the operation huma validates.
func TestResolveBodyAnswersAsHuma(t *testing.T) {
	api := bodyAPI(t, true)
	bodies := []string{
		`{"name":"abcdef","point":[1,2]}`, `{"name":"ab"}`, `{"point":[1,2]}`, `{"name":"ab","point":[1]}`,
		`{"name":"ab","point":[1,"2"]}`, `{"name":5,"point":[1,2]}`, `{"name":null,"point":[1,2]}`,
		`{"name":"ab","point":[1,2],"note":null}`, `{"name":"ab","point":[1,2],"note":"long"}`,
		`{"name":"ab","point":[1,2],"kind":"c"}`, `{"name":"ab","point":[1,2],"kind":""}`, `{"name":"ab","point":[1,2],"extra":1}`,
		`{"name":"ab","point":[1,2],"NAME":"x"}`, `{"name":"ab","name":"abcdefg","point":[1,2]}`, `{"name":"ab","point":[1e999,2]}`,
		`{"name":"ab","point":[NaN,2]}`, `{"name":`, `[]`, `null`, `"x"`, `{}`, ``, `{"name":"ab","point":[1,2]} x`,
		strings.Repeat(`[`, 30000), `{"tags":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`,
		`{"name":"ab","point":[1,2],"tags":[1]}`, `{"name":"\u00e9\u00e9\u00e9\u00e9\u00e9","point":[1,2]}`,
		`{"name":"` + "\xff" + `","point":[1,2]}`, `{"name":"ab","point":[1,2],"note":"` + strings.Repeat("x", 70<<10) + `"}`,
	}
	for text := range checkedTexts {
		bodies = append(bodies, text)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	alphabet := `{}[]":,.-+eE019 \nabnlu` + "\x00\xff"
	for range 2000 {
		b := jsonmutate.Mutate(rnd, `{"name":"abc","kind":"a","point":[1.5,-2],"note":"n","tags":["x","y"]}`, alphabet)
		bodies = append(bodies, string(b))
	}
	for _, body := range bodies {
		for _, contentType := range []string{"", "application/json", "application/merge-patch+json"} {
			var headers []any
			if contentType != "" {
				headers = append(headers, "Content-Type: "+contentType)
			}
			got := api.Post("/checked", append(headers, strings.NewReader(body))...)
			want := api.Post("/plain", append(headers, strings.NewReader(body))...)
			if got.Code != want.Code || unordered(got.Body.String()) != unordered(want.Body.String()) {
				t.Errorf("%.80q (%s): resolved %d %s\nhuma's %d %s", body, contentType, got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
}

// unordered is an answer with its errors in order: huma lists a body's
// unexpected properties in map order, which varies from run to run. (With
// several, a name holding "." or "[" is named wrongly, differently each
// time, by huma's path buffer: such answers are all the same here.)
func unordered(answer string) string {
	var e struct {
		Code    int
		Message string
		Errors  []map[string]string
	}
	if json.Unmarshal([]byte(answer), &e) != nil || len(e.Errors) < 2 {
		return answer
	}
	if strings.ContainsAny(e.Message, ".[") {
		return "several unexpected properties, one with . or ["
	}
	parts := strings.Split(e.Message, "; ")
	slices.Sort(parts)
	slices.SortFunc(e.Errors, func(a, b map[string]string) int {
		return strings.Compare(a["field"]+a["message"], b["field"]+b["message"])
	})
	out, _ := json.Marshal([]any{e.Code, parts, e.Errors})
	return string(out)
}

// Without StrictBody, which keeps the text huma has read, ResolveBody
// cannot decode the body: 500, never an empty body taken for a good one.
func TestResolveBodyNeedsStrictBody(t *testing.T) {
	api := bodyAPI(t, false)
	if got := api.Post("/checked", strings.NewReader(`{"name":"ab","point":[1,2]}`)); got.Code != http.StatusInternalServerError {
		t.Fatalf("without StrictBody: %d %s", got.Code, got.Body)
	}
}
