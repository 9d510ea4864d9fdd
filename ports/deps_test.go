package ports_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The domains and their storage know nothing of HTTP, metrics or the
// facade: an adapter, the conformance suite and a program that only uses
// the services build without huma or Prometheus. Their HTTP operations
// live in each domain's *api package, the metrics in adapters/prometheus.
func TestStorageDependsOnNoHTTP(t *testing.T) {
	t.Parallel()
	const module = "github.com/sety-io/sety"
	pkgs := []string{"ports", "adapters/memory", "adapters/sqlite", "adapters/postgres", "adapters/storetest",
		"incident", "auth", "access", "webhook", "threat", "outbox", "clock", "geo", "setyerr", "ids"}
	forbidden := []string{"github.com/danielgtaylor/huma/", "github.com/prometheus/", module + "/internal/httpapi",
		module + "/adapters/prometheus", module + "/stream"}
	for _, pkg := range pkgs {
		out, err := exec.Command("go", "list", "-deps", module+"/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if dep == module || strings.HasSuffix(dep, "api") && strings.HasPrefix(dep, module+"/") {
				t.Errorf("%s depends on %s (the facade or an HTTP package)", pkg, dep)
			}
			for _, f := range forbidden {
				if strings.HasPrefix(dep+"/", f) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
