package sety_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/incident"
)

func TestNewRejectsABadSLAPolicy(t *testing.T) {
	t.Parallel()
	partial := incident.SLAPolicy{incident.Critical: {Assign: time.Minute, Arrive: 5 * time.Minute}}
	if _, err := sety.New(memory.New(), sety.WithSLAPolicy(partial)); err == nil || !strings.Contains(err.Error(), "severity") {
		t.Fatalf("partial policy: %v", err)
	}
	backwards := incident.DefaultSLAPolicy()
	backwards[incident.Low] = incident.SLATarget{Assign: time.Hour, Arrive: time.Minute}
	if _, err := sety.New(memory.New(), sety.WithSLAPolicy(backwards)); err == nil {
		t.Fatal("arrival before assignment accepted")
	}
	if _, err := sety.New(nil); err == nil {
		t.Fatal("nil stores accepted")
	}
	if _, err := sety.New(memory.New(), sety.WithSLAPolicy(incident.DefaultSLAPolicy())); err != nil {
		t.Fatal(err)
	}
}
