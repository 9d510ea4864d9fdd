package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A server whose address is taken exits 1 at once, names the setting to
// change, prints no key and leaves no database behind: it binds before it
// touches storage. So does one whose metrics address is taken.
func TestBusyAddressTouchesNoStorage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server as a process")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		name string
		env  []string
		want []string
	}{
		{"API", []string{"SETY_ADDR=" + busy.Addr().String()}, []string{busy.Addr().String(), "-addr", "SETY_ADDR"}},
		{"Metrics", []string{"SETY_ADDR=127.0.0.1:0", "SETY_METRICS_ADDR=" + busy.Addr().String()},
			[]string{busy.Addr().String(), "-metrics-addr", "SETY_METRICS_ADDR"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0]) // TestMain sees SETY_CRASH_CHILD and runs main()
			cmd.Env = append(os.Environ(), append([]string{"SETY_CRASH_CHILD=1", "SETY_DB=" + filepath.Join(dir, "sety.db")}, c.env...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, stderr.String())
			}
			for _, want := range c.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("the message does not name %s:\n%s", want, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q", stdout.String())
			}
			if files, _ := os.ReadDir(dir); len(files) != 0 {
				t.Errorf("left %v behind", files)
			}
		})
	}
}
