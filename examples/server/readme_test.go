package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The README's walk-through runs as written: its server command starts
// this server with the same settings, and its shell blocks run in order,
// in one bash, against it.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's walk-through")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walk-through needs %s (.ci/run installs it)", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	server, steps := walkthrough(t, string(readme))
	vars, args := serverCommand(t, server)
	vars["SETY_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env(vars), io.Discard, io.Discard, ready) }()
	defer func() { cancel(); <-done }()
	addr := <-ready

	script := "set -euo pipefail\n" + strings.ReplaceAll(strings.Join(steps, "\n"), "http://localhost:8080", "http://"+addr)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"status": "assigned"`, `"responder": "Lagos Unit`, `"total": 1`, `"met"`, `"resolved"`,
		`{"code":409,"message":"incident is resolved and cannot be cancelled"}`,
		`"waiting": "No responder is available within the 50 km dispatch range: waiting for one"`, `"cancelled"`,
		`"is_drill": true`, `"resolved"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walk-through's output lacks %s:\n%s", want, out)
		}
	}
}

var (
	shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")
	marker  = regexp.MustCompile(`<!-- walkthrough(:server)? -->\n`)
)

// walkthrough returns the README's server command and its walk-through
// steps: the shell blocks right after a walk-through marker.
func walkthrough(t *testing.T, readme string) (server string, steps []string) {
	t.Helper()
	for _, at := range marker.FindAllStringSubmatchIndex(readme, -1) {
		block := shBlock.FindStringSubmatch(readme[at[1]:])
		if block == nil {
			t.Fatal("a walk-through marker with no shell block after it")
		}
		if at[2] >= 0 {
			server = block[1]
		} else {
			steps = append(steps, block[1])
		}
	}
	if server == "" || len(steps) == 0 {
		t.Fatal("the README has no walk-through")
	}
	return server, steps
}

// serverCommand reads "VAR=value ... go run ./examples/server flags...".
func serverCommand(t *testing.T, cmd string) (map[string]string, []string) {
	t.Helper()
	fields := strings.Fields(strings.ReplaceAll(cmd, "\\\n", " "))
	vars := map[string]string{}
	for i, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok && !strings.HasPrefix(f, "-") {
			vars[k] = v
			continue
		}
		if f == "./examples/server" {
			return vars, fields[i+1:]
		}
	}
	t.Fatalf("no server command in %q", cmd)
	return nil, nil
}

var (
	anyShBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")
	// An assignment (VAR=..., export VAR=..., a command's VAR=... prefix)
	// or a read into variables.
	assigned = regexp.MustCompile(`(?:^|[\s;&(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=`)
	readInto = regexp.MustCompile(`\bread\s+(?:-r\s+)?((?:[A-Za-z_][A-Za-z0-9_]*\s*)+)`)
	used     = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
)

// Every shell variable a README example uses is set in it or in an earlier
// example (or is the shell's own), so a reader who runs the examples in
// order never sends an empty key.
func TestREADMEVariablesAreDefined(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{"USER": true, "HOME": true, "PATH": true}
	for _, block := range anyShBlock.FindAllStringSubmatch(string(readme), -1) {
		for _, line := range strings.Split(block[1], "\n") {
			if i := strings.Index(line, " #"); i >= 0 || strings.HasPrefix(line, "#") {
				line = line[:max(i, 0)]
			}
			for _, m := range assigned.FindAllStringSubmatch(line, -1) {
				defined[m[1]] = true
			}
			for _, m := range readInto.FindAllStringSubmatch(line, -1) {
				for _, name := range strings.Fields(m[1]) {
					defined[name] = true
				}
			}
			for _, m := range used.FindAllStringSubmatch(line, -1) {
				if !defined[m[1]] {
					t.Errorf("the README uses $%s before any example sets it: %s", m[1], strings.TrimSpace(line))
				}
			}
		}
	}
}
