package incident

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
)

// Every change in this package's tests checks that the JSON handed to the
// store (Effects.Encoded) is the incident's own, byte for byte as
// encoding/json writes it: a change that moved the incident after its last
// event, or a difference of appendIncident's from encoding/json's, panics
// there. Benchmarks (-test.bench) run without the check, which would add
// an encoding to every change.
func init() {
	if !slices.ContainsFunc(os.Args, func(arg string) bool { return strings.HasPrefix(arg, "-test.bench") }) {
		verifyEncoded = encodingJSON
	}
}

// encodingJSON is inc's JSON as encoding/json writes it without HTML
// escaping and without the final newline: what Encode must return.
func encodingJSON(inc *Incident) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(inc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// AppendIncident and EncodingJSON are for appendjson_test.go.
var (
	AppendIncident = appendIncident
	EncodingJSON   = encodingJSON
)
