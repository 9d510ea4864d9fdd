package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/syncbuf"
)

// The server serves /metrics in the Prometheus exposition format, with the
// series an operator watches Sety by.
func TestMetrics(t *testing.T) {
	const live = "sety_live_0123456789abcdef0123456789abcdef"
	cancel, addr, _, done := startServer(t, map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": filepath.Join(t.TempDir(), "sety.db"),
		"SETY_BOOTSTRAP_LIVE_KEY": live, "SETY_CONSOLE": "1", "SETY_PLAN": "starter",
		"SETY_ALLOW_PRIVATE_WEBHOOKS": "1"})
	defer func() { cancel(); <-done }()
	call := func(method, path, body string) int {
		t.Helper()
		return apitest.Call(t, method, "http://"+addr+"/v1/external"+path, live, body, nil)
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer receiver.Close()
	call(http.MethodPost, "/webhooks", `{"url":"`+receiver.URL+`","events":["incident.created"]}`)
	call(http.MethodPut, "/responders/rsp_0000000000000001", `{"name":"Unit 1","location":[3.3792,6.5244]}`)
	call(http.MethodPost, "/incidents", sos) // assigned at once
	call(http.MethodPost, "/incidents", sos) // queued
	call(http.MethodPost, "/access-codes/validate", `{"code":"000000","site":"gate"}`)
	call(http.MethodGet, "/no-such-route", "")
	// 405: the path is a route, under other methods.
	call(http.MethodDelete, "/incidents", "")
	for call(http.MethodGet, "/incidents", "") != http.StatusTooManyRequests { // starter: 60 a minute
	}

	var families map[string]*dto.MetricFamily
	scrape := func() {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		if families, err = parser.TextToMetricFamilies(resp.Body); err != nil {
			t.Fatalf("/metrics is not the exposition format: %v", err)
		}
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f, ok := families[name]
		if !ok {
			return 0, false
		}
	metrics:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue metrics
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
		return 0, false
	}
	// The two incident.created deliveries are attempted in the background:
	// scrape until the worker has recorded them, as a monitor would.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		scrape()
		if n, _ := value("sety_webhook_deliveries_total", map[string]string{"outcome": "succeeded"}); n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"sety_http_requests_total", map[string]string{"operation": "report-incident", "status": "201"}, 2},
		{"sety_http_requests_total", map[string]string{"operation": "list-incidents", "status": "429"}, 1},
		{"sety_http_requests_total", map[string]string{"operation": "unknown", "status": "404"}, 1},
		{"sety_http_requests_total", map[string]string{"operation": "unknown", "status": "405"}, 1},
		{"sety_http_request_duration_seconds", map[string]string{"operation": "report-incident"}, 2},
		{"sety_incidents_active", map[string]string{"status": "assigned", "environment": "live"}, 1},
		{"sety_incidents_active", map[string]string{"status": "dispatching", "environment": "live"}, 1},
		{"sety_incidents_active", map[string]string{"status": "dispatching", "environment": "test"}, 0},
		{"sety_dispatch_queue_depth", nil, 1},
		{"sety_incident_events_total", map[string]string{"type": "incident.created", "environment": "live"}, 2},
		{"sety_incident_dispatch_delay_seconds", nil, 2},
		{"sety_incident_assign_delay_seconds", nil, 1},
		{"sety_incident_arrive_delay_seconds", nil, 0},
		{"sety_sla_breaches_total", nil, 0},
		{"sety_access_validations_total", map[string]string{"result": "not_found"}, 1},
		{"sety_rate_limit_rejections_total", map[string]string{"plan": "starter"}, 1},
		{"sety_rate_limit_lease_waits_total", nil, 1}, // the first request took the first lease
		{"sety_webhook_deliveries_total", map[string]string{"outcome": "succeeded"}, 2},
		{"sety_webhook_attempt_duration_seconds", nil, 2},
		{"sety_webhook_pending_deliveries", nil, 0},
		{"sety_webhook_pending_deliveries_max", nil, 0},
		{"sety_store_commit_seconds", nil, 1},
		{"sety_store_commit_batch_size", nil, 1},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	} {
		got, ok := value(want.name, want.labels)
		if _, listed := families[want.name]; !listed || want.labels != nil && !ok || got < want.min {
			t.Errorf("%s%v = %v (present %v), want at least %v", want.name, want.labels, got, listed, want.min)
		}
	}
	checkNoTenantLabels(t, families)
}

// tenantLabels are the labels Sety's metrics may have: each takes values
// from a small fixed set, none of which names a tenant.
var tenantLabels = map[string]bool{"operation": true, "status": true, "type": true, "environment": true,
	"result": true, "plan": true, "outcome": true, "kind": true}

// anID is any id Sety makes (org_..., key_..., we_..., inc_...).
var anID = regexp.MustCompile(`^[a-z]+_[0-9a-z]{16}$`)

// checkNoTenantLabels fails on a Sety series with a label outside
// tenantLabels, or whose value is an id: metrics are read by whoever
// operates the server, and must not list or tell apart its tenants.
func checkNoTenantLabels(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	for name, f := range families {
		if !strings.HasPrefix(name, "sety_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !tenantLabels[l.GetName()] || anID.MatchString(l.GetValue()) {
					t.Errorf("%s has label %s=%q: metrics must not tell tenants apart", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// With -metrics-addr the metrics are served on their own listener, and
// not on the API's.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_MEMORY": "1", "SETY_METRICS_ADDR": "127.0.0.1:0"}
	go func() { done <- run(ctx, nil, env(vars), io.Discard, &logs, ready) }()
	defer func() { cancel(); <-done }()
	addr := <-ready
	m := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics listener in the logs:\n%s", logs.String())
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + m[1] + "/metrics"); code != http.StatusOK || !strings.Contains(body, "sety_incidents_active") {
		t.Fatalf("metrics listener: %d\n%.300s", code, body)
	}
	if code, body := get("http://" + m[1] + "/v1/external/health"); code != http.StatusNotFound {
		t.Fatalf("the metrics listener serves the API: %d %s", code, body)
	}
	if code, body := get("http://" + addr + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("the API's listener still serves /metrics: %d %.300s", code, body)
	}
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
