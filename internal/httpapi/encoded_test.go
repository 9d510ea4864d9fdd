package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
)

// kept is a PreEncoded body whose kept bytes differ from what encoding its
// fields gives, so a test sees which of the two was written; its JSON is
// wrapped in head and tail when they are set.
type kept struct {
	Name                string `json:"name"`
	head, encoded, tail []byte
}

func (k kept) PreEncodedJSON() (head, body, tail []byte) { return k.head, k.encoded, k.tail }

func marshal(t *testing.T, api huma.API, contentType string, v any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := NewGuest(api, "Sety", "sety-").Marshal(&buf, contentType, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The kept JSON is written as it is only where the host's format writes
// what EncodeJSON writes; any other format, or a body without kept JSON,
// gets the host's own marshal.
func TestGuestWritesPreEncodedJSONOnlyWhereTheHostWouldWriteTheSame(t *testing.T) {
	_, api := humatest.New(t) // huma's default formats
	body := kept{Name: "<b>fresh</b>", encoded: []byte("{\"name\":\"kept\"}\n")}
	if got := marshal(t, api, "application/json", body); got != "{\"name\":\"kept\"}\n" {
		t.Fatalf("huma's default JSON: wrote %q, want the kept bytes", got)
	}
	wrapped := kept{head: []byte(`{"wrapped":`), encoded: []byte(`{"name":"kept"}`), tail: []byte("}\n")}
	if got := marshal(t, api, "application/json", wrapped); got != "{\"wrapped\":{\"name\":\"kept\"}}\n" {
		t.Fatalf("huma's default JSON: wrote %q, want the kept bytes with their head and tail", got)
	}
	if got := marshal(t, api, "application/json", kept{Name: "<b>fresh</b>"}); got != "{\"name\":\"<b>fresh</b>\"}\n" {
		t.Fatalf("nothing kept: wrote %q, want the body encoded", got)
	}

	escaping := huma.DefaultConfig("escaping", "1.0.0")
	escaping.Formats = map[string]huma.Format{"application/json": {
		Marshal:   func(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }, // escapes HTML
		Unmarshal: json.Unmarshal,
	}}
	_, escapingAPI := humatest.New(t, escaping)
	if got := marshal(t, escapingAPI, "application/json", body); got != "{\"name\":\"\\u003cb\\u003efresh\\u003c/b\\u003e\"}\n" {
		t.Fatalf("a host that escapes HTML: wrote %q, want its own encoding of the body", got)
	}
}
