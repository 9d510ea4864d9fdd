package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sety-io/sety/internal/apitest"
)

// A webhook URL refused as private names the flag that allows it, only
// while the server runs without it.
func TestPrivateWebhookRefusalNamesTheFlag(t *testing.T) {
	const key = "sety_live_0123456789abcdef0123456789abcdef"
	for _, allow := range []string{"", "1"} {
		vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": filepath.Join(t.TempDir(), "sety.db"),
			"SETY_BOOTSTRAP_LIVE_KEY": key, "SETY_ALLOW_PRIVATE_WEBHOOKS": allow}
		cancel, addr, _, done := startServer(t, vars)
		var got struct{ Message string }
		code := apitest.Call(t, http.MethodPost, "http://"+addr+"/v1/external/webhooks", key,
			`{"url":"https://[fe80::1%25eth0]/hooks","events":["*"]}`, &got) // refused whatever the flag
		if code != http.StatusBadRequest || strings.Contains(got.Message, "allow-private-webhooks") {
			t.Errorf("allow=%q, a zoned address: %d %q, want 400 without the flag's name", allow, code, got.Message)
		}
		code = apitest.Call(t, http.MethodPost, "http://"+addr+"/v1/external/webhooks", key,
			`{"url":"http://127.0.0.1:9/hooks","events":["*"]}`, &got)
		switch {
		case allow == "" && (code != http.StatusBadRequest || !strings.Contains(got.Message, "start the server with -allow-private-webhooks")):
			t.Errorf("without the flag: %d %q, want 400 naming -allow-private-webhooks", code, got.Message)
		case allow == "1" && code != http.StatusCreated:
			t.Errorf("with the flag: %d %q, want 201", code, got.Message)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
