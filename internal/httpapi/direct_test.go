package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety/setyerr"
)

type thingInput struct {
	ID string `path:"id" maxLength:"8"`
}

type thing struct {
	ID   string `json:"id"`
	Note string `json:"note"`
}

// thingAPI registers GET /things/{id} on a new API (huma's default
// configuration; when strict, without a fallback format, so a request
// accepting none of its formats gets 406), with Direct when direct is
// set; viaDirect counts the requests Direct answered.
func thingAPI(t *testing.T, strict, direct bool, viaDirect *int) http.Handler {
	t.Helper()
	InstallErrorFormat()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := huma.DefaultConfig("things", "1.0.0")
	cfg.NoFormatFallback = strict
	_, host := humatest.New(t, cfg)
	api := NewGroup(host, Shared{Security: []map[string][]string{}})
	get := func(_ context.Context, in *thingInput) (*Output[thing], error) {
		switch in.ID {
		case "missing":
			return nil, setyerr.E(setyerr.NotFound, "thing %s not found", in.ID)
		case "broken":
			return nil, io.ErrUnexpectedEOF // no kind: 500
		}
		return &Output[thing]{Body: thing{ID: in.ID, Note: "<&>"}}, nil
	}
	op := huma.Operation{OperationID: "get-thing", Method: http.MethodGet, Path: "/things/{id}", Errors: []int{http.StatusNotFound}}
	if direct {
		op.Middlewares = huma.Middlewares{Direct(api, log, func(ctx huma.Context) (thingInput, bool) {
			id := ctx.Param("id")
			return thingInput{ID: id}, id != "" && len(id) <= 8 && ctx.URL().RawQuery == ""
		}, func(ctx context.Context, in *thingInput) (*Output[thing], error) {
			*viaDirect++
			return get(ctx, in)
		})}
	}
	huma.Register(api, op, Errors(log, get))
	return host.Adapter()
}

// Direct answers what huma would, byte for byte, and leaves to huma what
// it cannot judge as huma does.
func TestDirectAnswersAsHumaDoes(t *testing.T) {
	var viaDirect int
	for _, tt := range []struct {
		path, accept string
		strict       bool // the API has no fallback format
		toHuma       bool // Direct leaves it to huma
	}{
		{path: "/things/t1"},
		{path: "/things/t1", accept: "application/json"},
		{path: "/things/t1", accept: "application/cbor"}, // none of its formats: the fallback
		{path: "/things/t1", accept: "*/*"},
		{path: "/things/missing"},
		{path: "/things/broken"},
		{path: "/things/much-too-long", toHuma: true},
		{path: "/things/t1?x=1", toHuma: true},
		{path: "/things/t1", accept: "application/xml"}, // the fallback format
		{path: "/things/t1", accept: "application/xml", strict: true, toHuma: true},
		{path: "/things/t1", accept: "application/json", strict: true},
	} {
		direct, plain := thingAPI(t, tt.strict, true, &viaDirect), thingAPI(t, tt.strict, false, nil)
		answer := func(h http.Handler) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			func() {
				defer func() { _ = recover() }() // huma panics after writing a 406
				h.ServeHTTP(rec, req)
			}()
			return rec
		}
		before := viaDirect
		got, want := answer(direct), answer(plain)
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !equalHeaders(got.Header(), want.Header()) {
			t.Errorf("%s (Accept %q): Direct answered %d %v %q; huma %d %v %q", tt.path, tt.accept,
				got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
		if toHuma := viaDirect == before; toHuma != tt.toHuma {
			t.Errorf("%s (Accept %q): left to huma %v, want %v", tt.path, tt.accept, toHuma, tt.toHuma)
		}
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}
