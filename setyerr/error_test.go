package setyerr_test

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/sety-io/sety/setyerr"
)

func TestWireMapsEveryKind(t *testing.T) {
	tests := []struct {
		err        error
		wantCode   int
		wantMsg    string
		wantHidden bool
	}{
		{setyerr.Invalidf("category", "is required"), 400, "category: is required", false},
		{setyerr.E(setyerr.Unauthenticated, "invalid API key"), 401, "invalid API key", false},
		{setyerr.E(setyerr.PaymentRequired, "organization suspended"), 402, "organization suspended", false},
		{setyerr.E(setyerr.Forbidden, "missing scope"), 403, "missing scope", false},
		{setyerr.E(setyerr.NotFound, "Incident not found"), 404, "Incident not found", false},
		{fmt.Errorf("cancel: %w", setyerr.E(setyerr.Conflict, "incident is resolved")), 409, "incident is resolved", false},
		{setyerr.E(setyerr.TooLarge, "too large"), 413, "too large", false},
		{setyerr.E(setyerr.RateLimited, "slow down"), 429, "slow down", false},
		{setyerr.E(setyerr.Unavailable, "storage unavailable"), 503, "storage unavailable", false},
		{sql.ErrConnDone, 500, "internal error", true},
		{setyerr.Wrap(setyerr.Internal, errors.New("near SELECT: syntax error"), "boom"), 500, "internal error", true},
	}
	for _, tt := range tests {
		body, hidden := setyerr.Wire(tt.err)
		if body.Code != tt.wantCode || body.Message != tt.wantMsg || hidden != tt.wantHidden {
			t.Errorf("Wire(%v) = {%d %q} hidden=%v, want {%d %q} hidden=%v",
				tt.err, body.Code, body.Message, hidden, tt.wantCode, tt.wantMsg, tt.wantHidden)
		}
	}
}

func TestInvalidNamesTheField(t *testing.T) {
	body, _ := setyerr.Wire(setyerr.Invalidf("subject.phone", "must be E.164"))
	if len(body.Errors) != 1 || body.Errors[0].Field != "subject.phone" {
		t.Fatalf("errors = %+v, want one naming subject.phone", body.Errors)
	}
}

func TestKindOfUnwraps(t *testing.T) {
	err := fmt.Errorf("outer: %w", setyerr.Wrap(setyerr.NotFound, sql.ErrNoRows, "not found"))
	if got := setyerr.KindOf(err); got != setyerr.NotFound {
		t.Fatalf("KindOf = %v, want NotFound", got)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		t.Fatal("cause lost")
	}
}
