package main

import (
	"slices"
	"testing"
)

// TestConfigs: -configs accepts the bare configurations (and their
// groups in flight, @N) without -base,
// each runs the instances it names, and unknown or incomplete ones are
// refused.
func TestConfigs(t *testing.T) {
	o, err := parseFlags([]string{"-configs", "pg-1, pg-2,bare-1,bare-2,pg-2@8"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"pg-1", "pg-2", "bare-1", "bare-2", "pg-2@8"}; !slices.Equal(o.configs, want) {
		t.Errorf("configs = %v; want %v", o.configs, want)
	}
	for cfg, want := range map[string][]string{
		"sqlite":   nil,
		"pg-1":     {"pg-a"},
		"pg-2":     {"pg-a", "pg-b"},
		"base-2":   {"base-a", "base-b"},
		"bare-1":   {"bare-a"},
		"bare-2":   {"bare-a", "bare-b"},
		"pg-2@8":   {"pg-2@8-a", "pg-2@8-b"},
		"bare-1@2": {"bare-1@2"},
		"bare-2@3": {"bare-2@3-a", "bare-2@3-b"},
	} {
		if got, ok := instancesOf(cfg); !ok || !slices.Equal(got, want) {
			t.Errorf("instancesOf(%q) = %v, %v; want %v", cfg, got, ok, want)
		}
	}
	for name, want := range map[string]int{"bare-1@2": 2, "bare-2@3-b": 3, "bare-1": 0, "pg-1@4": 0} {
		if n, ok := commitsOf(name); n != want || ok != (want > 0) {
			t.Errorf("commitsOf(%q) = %d, %v; want %d", name, n, ok, want)
		}
	}
	for _, cfg := range []string{"bare-1", "bare-2", "bare-1@2", "bare-2@2-a"} {
		if !bare(cfg) {
			t.Errorf("bare(%q) = false", cfg)
		}
	}
	if bare("base-1") || bare("pg-1") {
		t.Error("bare of a Sety configuration")
	}
	for _, args := range [][]string{
		{"-configs", "bare-3"},
		{"-configs", "bare-1@x"},
		{"-configs", "bare-2@0"},
		{"-configs", "base-1"}, // needs -base
		{"-configs", "pg-1", "-clients", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// TestServingRE: the address is found in the example server's log line
// and in bench/baseline's first line, and not in another.
func TestServingRE(t *testing.T) {
	for line, want := range map[string]string{
		`time=2026-12-07T12:00:00Z level=INFO msg="serving Sety API" addr=127.0.0.1:40123`:   "127.0.0.1:40123",
		`durable baseline listening on 127.0.0.1:38811`:                                      "127.0.0.1:38811",
		`time=2026-12-07T12:00:00Z level=INFO msg="serving pprof profiles" addr=127.0.0.1:1`: "",
	} {
		got := ""
		if m := servingRE.FindStringSubmatch(line); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("address in %q = %q; want %q", line, got, want)
		}
	}
}
