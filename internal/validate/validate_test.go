package validate_test

import (
	"strings"
	"testing"
	"time"

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

func TestWindow(t *testing.T) {
	now := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name             string
		from, to         time.Time
		wantFrom, wantTo time.Time
	}{
		{"both unset: the last 30 days", time.Time{}, time.Time{}, now.Add(-30 * day), now},
		{"to only: 30 days before it", time.Time{}, now.Add(-day), now.Add(-31 * day), now.Add(-day)},
		{"from only: up to now", now.Add(-2 * day), time.Time{}, now.Add(-2 * day), now},
		{"one instant", now, now, now, now},
	} {
		from, to, err := validate.Window(c.from, c.to, now)
		if err != nil || !from.Equal(c.wantFrom) || !to.Equal(c.wantTo) {
			t.Errorf("%s: got %v, %v, %v; want %v, %v", c.name, from, to, err, c.wantFrom, c.wantTo)
		}
	}
	if _, _, err := validate.Window(now, now.Add(-time.Millisecond), now); setyerr.KindOf(err) != setyerr.Invalid {
		t.Errorf("a window that ends before it starts: got %v, want invalid", err)
	}
}
