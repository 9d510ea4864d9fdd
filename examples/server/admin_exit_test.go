package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Run as a process, every command answers bad input with a message that
// says what to do and a non-zero exit status: 2 for a bad flag or
// argument, 1 for what the database or the disk refuses. -h is status 0.
// A refused command leaves no file behind.
func TestAdminCommandsRefuseBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary as processes")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "sety.db")
	storage := map[string]string{"SETY_DB": db}
	mustAdmin(t, storage, "migrate")
	org := strings.Fields(mustAdmin(t, storage, "orgs", "create", "--name", "Acme Rides", "--plan", "growth"))[0]
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	create := func(flags ...string) []string {
		args := map[string]string{"--org": org, "--env": "test", "--scopes": "incidents:read", "--name": "ci"}
		for i := 0; i < len(flags); i += 2 {
			args[flags[i]] = flags[i+1]
		}
		out := []string{"keys", "create"}
		for k, v := range args {
			if v != "" {
				out = append(out, k, v)
			}
		}
		return out
	}
	for _, c := range []struct {
		args []string
		env  []string
		code int
		want string
	}{
		{args: []string{"frobnicate"}, code: 2, want: `unknown command "frobnicate": the commands are serve, keys create`},
		{args: []string{"keys"}, code: 2, want: `unknown command "keys"`},
		{args: []string{"keys", "rotate"}, code: 2, want: `unknown command "keys rotate"`},
		{args: []string{"serve", "now"}, code: 2, want: `unexpected argument "now"`},
		{args: []string{"-h"}, code: 0, want: "keys create"},
		{args: []string{"keys", "create", "-h"}, code: 0, want: "Usage: server keys create --org ORG"},
		{args: []string{"backup", "--help"}, code: 0, want: "pg_dump"},
		{args: create("--env", "staging"), code: 2, want: `--env must be live or test, not "staging"`},
		{args: create("--scopes", "incidents:read,incidents:delete"), code: 2, want: `unknown scope "incidents:delete"; the scopes are *,incidents:read`},
		{args: create("--org", ""), code: 2, want: "keys create needs --org"},
		{args: create("--name", strings.Repeat("n", 101)), code: 2, want: "--name: must be 1 to 100 characters"},
		{args: create("--org", "org_0000000000000000"), code: 1, want: "no organization org_0000000000000000 (orgs list shows them)"},
		{args: append(create(), "-memory"), code: 2, want: "-memory (or SETY_MEMORY)"},
		{args: []string{"keys", "list"}, env: []string{"SETY_MEMORY=1"}, code: 2, want: "-memory (or SETY_MEMORY)"},
		{args: []string{"keys", "list", "--color"}, code: 2, want: "flag provided but not defined: -color"},
		{args: []string{"keys", "list", "-db", filepath.Join(dir, "typo.db")}, code: 1, want: "no database at " + filepath.Join(dir, "typo.db")},
		{args: []string{"keys", "revoke"}, code: 2, want: "keys revoke takes KEY_ID, got 0 arguments"},
		{args: []string{"keys", "revoke", "key_0000000000000000"}, code: 1, want: "no API key key_0000000000000000"},
		{args: []string{"orgs", "suspend", "org_0000000000000000"}, code: 1, want: "no organization org_0000000000000000"},
		{args: []string{"orgs", "resume", org, "extra"}, code: 2, want: "takes ORG_ID, got 2 arguments"},
		{args: []string{"orgs", "create", "--name", "X", "--plan", "gold"}, code: 2, want: `--plan must be starter, growth or enterprise, not "gold"`},
		{args: []string{"orgs", "create", "--name", " ", "--plan", "growth"}, code: 2, want: "--name: must be 1 to 200 characters"},
		{args: []string{"orgs", "create", "--name", "X", "--plan", "growth", "--scopes", "root"}, code: 2, want: `unknown scope "root"`},
		{args: []string{"orgs", "list", "-database-url", "mysql://db/sety"}, code: 2, want: "-database-url must be a postgres:// or postgresql:// URL"},
		{args: []string{"backup", existing}, code: 1, want: existing + " exists already: a backup never overwrites a file"},
		{args: []string{"backup"}, code: 2, want: "backup takes FILE"},
		{args: []string{"backup", filepath.Join(dir, "b.db"), "-database-url", "postgres://sety@db/sety"}, code: 2, want: "pg_dump --format=custom"},
		{args: []string{"backup", filepath.Join(dir, "c.db"), "-db", filepath.Join(dir, "typo.db")}, code: 1, want: "no database at"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], c.args...) // TestMain sees SETY_CRASH_CHILD and runs main()
			cmd.Env = append(os.Environ(), append([]string{"SETY_CRASH_CHILD=1", "SETY_DB=" + db}, c.env...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, c.code, c.want, stderr.String())
			}
			if c.code != 0 && stdout.Len() != 0 {
				t.Fatalf("a refused command printed %q", stdout.String())
			}
		})
	}
	// Nothing the refused commands named was created, and the existing
	// file is as it was.
	for _, name := range []string{"typo.db", "b.db", "c.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want no file", name, err)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Errorf("the existing file now holds %q", b)
	}
	if out := mustAdmin(t, storage, "keys", "list", "--org", org); strings.Count(out, "\n") != 2 {
		t.Errorf("a refused keys create left a key:\n%s", out)
	}
}
