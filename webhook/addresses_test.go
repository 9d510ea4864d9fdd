package webhook

import (
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestForbiddenAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"93.184.216.34":        "",
		"8.8.8.8":              "",
		"2606:4700::6810:84e5": "",
		"127.0.0.1":            "loopback",
		"169.254.169.254":      "link-local",
		"192.0.0.170":          "IETF protocol assignment",
		"198.19.255.255":       "benchmarking",
		"203.0.113.9":          "documentation",
		"224.0.0.1":            "multicast",
		"::1":                  "loopback",
		"::":                   "special-purpose IPv6",
		"::ffff:8.8.8.8":       "IPv4-mapped",
		"::a9fe:a9fe":          "special-purpose IPv6",
		"64:ff9b::a9fe:a9fe":   "special-purpose IPv6",
		"64:ff9b:1::1":         "special-purpose IPv6",
		"100::1":               "special-purpose IPv6",
		"2001::1":              "IETF protocol assignment (Teredo, benchmarking, ORCHID)",
		"2001:db8::1":          "documentation",
		"2002:a9fe:a9fe::1":    "6to4",
		"fc00::1":              "unique-local",
		"fe80::1":              "link-local",
		"fec0::1":              "special-purpose IPv6",
		"ff02::1":              "multicast",
		"3fff::1":              "documentation",
	} {
		if got := forbiddenAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("forbiddenAddr(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestNumericHostsAreCanonicalized(t *testing.T) {
	for host, want := range map[string]string{
		"2130706433":      "127.0.0.1",
		"0x7f000001":      "127.0.0.1",
		"127.1":           "127.0.0.1",
		"127.0.1":         "127.0.0.1",
		"0177.0.0.01":     "127.0.0.1",
		"0x5d.0xb8.55.34": "93.184.55.34",
		"1.2.3.4":         "1.2.3.4",
		"example.com":     "example.com",
		"1.2.example":     "1.2.example",
		"4294967296":      "4294967296", // past 32 bits: a name, which no resolver finds
		"1.2.3.4.5":       "1.2.3.4.5",
		"EXAMPLE.com.":    "example.com",
	} {
		if got, _ := forbiddenHost(host); got != want {
			t.Errorf("forbiddenHost(%q) canonical %q, want %q", host, got, want)
		}
	}
}

// The connect-time guard refuses what the registration check refuses, by
// the address actually dialled.
func TestGuardConnect(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:443", "[::1]:443", "[64:ff9b::a9fe:a9fe]:443", "[2002:a9fe:a9fe::1]:443",
		"[::a9fe:a9fe]:443", "198.18.0.1:443", "240.0.0.1:443", "255.255.255.255:443", "192.0.0.170:443", "[::ffff:127.0.0.1]:443"} {
		if err := guardConnect("tcp", addr, nil); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("guardConnect(%s) = %v, want a refusal", addr, err)
		}
	}
	if err := guardConnect("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}

// Neither the logs nor a delivery's stored error show a URL's query string.
func TestURLsAreRedacted(t *testing.T) {
	var logs strings.Builder
	l := redactedLogger{slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	target := "https://hooks.example.com/sety?token=s3cret#frag"
	callErr := &url.Error{Op: "Post", URL: target, Err: errors.New("connection refused")}
	l.Debug("performing request", "method", "POST", "url", target)
	l.Error("request failed", "error", callErr, "method", "POST", "url", target)
	stored := attemptError(callErr)
	for _, out := range []string{logs.String(), stored} {
		if strings.Contains(out, "s3cret") || strings.Contains(out, "frag") || !strings.Contains(out, "hooks.example.com/sety") {
			t.Fatalf("not redacted: %s", out)
		}
	}
	// A customer's endpoint failing is a warning in Sety's log, not an error.
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("a failed attempt logged as: %s", logs.String())
	}
}
