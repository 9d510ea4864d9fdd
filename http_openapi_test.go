package sety_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the served document")

// The served OpenAPI document is the contract: any change to it shows up
// here and must be accepted with -update (and reviewed in the diff).
func TestOpenAPIGolden(t *testing.T) {
	h := newMemoryHarness(t)
	rec := h.serve(httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	var doc any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test . -run OpenAPIGolden -update)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("the served OpenAPI document differs from %s; if the change is intended, run\n\tgo test . -run OpenAPIGolden -update", golden)
	}
}

// Every operation is documented: id, summary, description, tag, the 500
// it may answer and, unless it is public, the bearer scheme.
func TestOpenAPIDocumentsEveryOperation(t *testing.T) {
	h := newMemoryHarness(t)
	count := 0
	for path, item := range h.api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			count++
			if op.Summary == "" || op.Description == "" || len(op.Tags) == 0 || op.OperationID == "" {
				t.Errorf("%s %s: summary %q, description %q, tags %v", op.OperationID, path, op.Summary, op.Description, op.Tags)
			}
			if _, ok := op.Responses["500"]; !ok {
				t.Errorf("%s documents no 500", op.OperationID)
			}
			if _, public := op.Responses["401"]; !public && len(op.Security) > 0 || public && len(op.Security) == 0 {
				t.Errorf("%s: security %v does not match its 401 response", op.OperationID, op.Security)
			}
		}
	}
	if count < 7 {
		t.Fatalf("%d operations documented, want at least 7", count)
	}
}
