package webhook

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// A webhook URL's query string often carries a token ("?key=..."), so no
// log line and no stored error shows it: URLs are cut to scheme, host and
// path wherever the worker or go-retryablehttp would print them.

// redactedLogger is the service's logger as go-retryablehttp sees it.
type redactedLogger struct{ log *slog.Logger }

// Error is a failed attempt: the customer's endpoint failed, not Sety, and
// the delivery log records it, so the operator's log gets a warning.
func (l redactedLogger) Error(msg string, kv ...any) {
	l.log.Warn("webhook attempt failed: "+msg, redactArgs(kv)...)
}
func (l redactedLogger) Warn(msg string, kv ...any)  { l.log.Warn(msg, redactArgs(kv)...) }
func (l redactedLogger) Info(msg string, kv ...any)  { l.log.Info(msg, redactArgs(kv)...) }
func (l redactedLogger) Debug(msg string, kv ...any) { l.log.Debug(msg, redactArgs(kv)...) }

func redactArgs(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			if i > 0 && kv[i-1] == "url" {
				out[i] = redactURL(v)
				continue
			}
			out[i] = v
		case error:
			out[i] = redactErr(v)
		default:
			out[i] = v
		}
	}
	return out
}

// redactURL keeps a URL's scheme, host and path.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		cut, _, _ := strings.Cut(raw, "?")
		return cut
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// redactErr rewrites an error from the HTTP client, which quotes the whole
// URL, with the URL redacted.
func redactErr(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}
