package validate_test

import (
	"strings"
	"testing"

	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/setyerr"
)

func TestRules(t *testing.T) {
	bad := []error{
		validate.Text("f", "\xff", 10),
		validate.Text("f", "a\x00b", 10),
		validate.Text("f", "a\x7fb", 10),
		validate.Text("f", strings.Repeat("é", 11), 10),
		validate.Phone("f", "08031234567"),
		validate.Phone("f", "+0123"),
		validate.Email("f", "a@"),
		validate.Email("f", "Ada <ada@example.com>"),
	}
	for i, err := range bad {
		if !setyerr.Is(err, setyerr.Invalid) || !strings.HasPrefix(err.Error(), "f:") {
			t.Errorf("case %d: %v", i, err)
		}
	}
	for i, err := range []error{
		validate.Text("f", "line\nbreak\ttab é 🚗", 20),
		validate.Phone("f", "+2348031234567"),
		validate.Email("f", "ada@example.com"),
	} {
		if err != nil {
			t.Errorf("good case %d: %v", i, err)
		}
	}
}
