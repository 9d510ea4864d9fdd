// Package apitest calls a running Sety API the way a client does, for the
// tests that start a real server (the root package's, the example
// server's).
package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Call sends method url with the JSON body and key as the bearer token,
// decodes a JSON answer into out unless out is nil, and returns the
// status. A request that gets no answer fails tb.
func Call(tb testing.TB, method, url, key, body string, out any) int {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode
}
