package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startProcess runs the server in a child process of the test binary with
// env added to the test's own, and returns it with its address
// ("http://host:port") once it logs that it serves. The caller stops it.
// With -short the test is skipped: process-level tests are the slow ones.
func startProcess(t *testing.T, env ...string) (*exec.Cmd, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts server processes: not with -short")
	}
	cmd := exec.Command(os.Args[0]) // TestMain sees SETY_CRASH_CHILD and runs main()
	cmd.Env = append(os.Environ(), append([]string{"SETY_CRASH_CHILD=1", "SETY_ADDR=127.0.0.1:0"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrRE := regexp.MustCompile(`addr=(\S+)`)
	lines := bufio.NewScanner(stderr)
	// A child that never says it serves is killed, so that the scan ends
	// and the test fails instead of hanging.
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil && strings.Contains(lines.Text(), "serving") {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return cmd, "http://" + m[1]
		}
	}
	t.Fatalf("the server did not start: %s", strings.Join(seen, "\n"))
	return nil, ""
}
