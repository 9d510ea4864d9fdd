package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// api calls the Sety v1 API of one server with one key.
type api struct {
	base string // e.g. http://127.0.0.1:8080/v1/external
	root string // e.g. http://127.0.0.1:8080
	key  string
	http *http.Client
}

func newAPI(rootURL, key string, conns int) *api {
	root := strings.TrimRight(rootURL, "/")
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &api{base: root + "/v1/external", root: root, key: key, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// withKey is the same server with another key, over the same connections.
func (a *api) withKey(key string) *api {
	b := *a
	b.key = key
	return &b
}

// do sends a request under the API's base path and returns the status and
// body. in, when not nil, is sent as JSON. A transport error has status 0.
func (a *api) do(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// call is do for set-up and monitoring: any status but want is an error
// naming the answer, and the body is decoded into out when out is not nil.
func (a *api) call(ctx context.Context, method, path string, in any, want int, out any) error {
	status, b, err := a.do(ctx, method, path, in)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: %d, not %d: %s", method, path, status, want, truncate(b, 300))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// total is pagination.total of a list call with limit=1.
func (a *api) total(ctx context.Context, path string) (int, error) {
	var page struct {
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	err := a.call(ctx, http.MethodGet, path, nil, http.StatusOK, &page)
	return page.Pagination.Total, err
}

// health waits until the server answers /health with 200, or ctx ends.
func (a *api) health(ctx context.Context) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.root+"/health", nil)
		if err != nil {
			return err
		}
		resp, err := a.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/health answered %d", resp.StatusCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// metrics fetches /metrics (unauthenticated first, then with the key);
// ok is false when the server does not serve it.
func (a *api) metrics(ctx context.Context) (text string, ok bool) {
	for _, auth := range []bool{false, true} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.root+"/metrics", nil)
		if err != nil {
			return "", false
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+a.key)
		}
		resp, err := a.http.Do(req)
		if err != nil {
			return "", false
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return string(b), true
		}
	}
	return "", false
}

// scrapeSum adds up the samples of name in a Prometheus text exposition
// whose labels include every one of labels (`name="value"` each): with none
// given, every sample of name. ok is false when none matched.
func scrapeSum(text, name string, labels ...string) (int, bool) {
	sum, found := 0.0, false
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), name)
		if !ok || rest == "" || rest[0] != ' ' && rest[0] != '{' {
			continue // another metric whose name starts with name
		}
		var set []string
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				continue
			}
			set, rest = strings.Split(rest[1:end], ","), rest[end+1:]
		}
		match := true
		for _, l := range labels {
			match = match && slices.Contains(set, l)
		}
		var v float64
		if _, err := fmt.Sscan(rest, &v); err != nil || !match {
			continue
		}
		sum, found = sum+v, true
	}
	return int(sum), found
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
