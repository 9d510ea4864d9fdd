package ids_test

import (
	"testing"

	"github.com/sety-io/sety/ids"
)

func TestNewShape(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := ids.New("inc")
		if !ids.Valid("inc", id) {
			t.Fatalf("New made %q, not a valid inc id", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestValid(t *testing.T) {
	tests := map[string]bool{
		"inc_a1b2c3d4e5f6g7h8":  true,
		"inc_A1B2C3D4E5F6G7H8":  false,
		"inc_a1b2c3d4e5f6g7h":   false,
		"org_a1b2c3d4e5f6g7h8":  false,
		"inc-a1b2c3d4e5f6g7h8":  false,
		"inc_a1b2c3d4e5f6g7h8'": false,
		"":                      false,
	}
	for id, want := range tests {
		if got := ids.Valid("inc", id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
	seq := ids.Sequential()
	if a, b := seq("inc"), seq("inc"); a == b || !ids.Valid("inc", a) {
		t.Fatalf("Sequential gave %q then %q", a, b)
	}
}
