package httpapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/setyerr"
)

func TestDateRange(t *testing.T) {
	tests := []struct {
		from, to         string
		wantFrom, wantTo time.Time
		errField         string
	}{
		{"", "", time.Time{}, time.Time{}, ""},
		{"2026-03-10", "2026-03-10", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 23, 59, 59, 999e6, time.UTC), ""},
		{"2026-03-10T15:22:05+01:00", "", time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC), time.Time{}, ""},
		{"10/03/2026", "", time.Time{}, time.Time{}, "from_date"},
		{"", "2026-02-30", time.Time{}, time.Time{}, "to_date"},
		{"2026-03-11", "2026-03-10", time.Time{}, time.Time{}, "from_date"},
	}
	for _, tt := range tests {
		from, to, err := DateRange(tt.from, tt.to)
		if tt.errField != "" {
			var e *setyerr.Error
			if !setyerr.Is(err, setyerr.Invalid) || !errors.As(err, &e) || e.Field != tt.errField {
				t.Errorf("DateRange(%q, %q) = %v, want Invalid naming %s", tt.from, tt.to, err, tt.errField)
			}
			continue
		}
		if err != nil || !from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
			t.Errorf("DateRange(%q, %q) = %v, %v, %v", tt.from, tt.to, from, to, err)
		}
	}
}

func TestNewPage(t *testing.T) {
	tests := []struct {
		page, limit, total, items int
		want                      Pagination
	}{
		{1, 20, 0, 0, Pagination{Page: 1, Limit: 20, Total: 0, TotalPages: 0, HasMore: false}},
		{1, 20, 134, 20, Pagination{Page: 1, Limit: 20, Total: 134, TotalPages: 7, HasMore: true}},
		{7, 20, 134, 14, Pagination{Page: 7, Limit: 20, Total: 134, TotalPages: 7, HasMore: false}},
		{9, 20, 134, 0, Pagination{Page: 9, Limit: 20, Total: 134, TotalPages: 7, HasMore: false}},
	}
	for _, tt := range tests {
		got := NewPage(make([]int, tt.items), PageQuery{Page: tt.page, Limit: tt.limit}, tt.total)
		if got.Pagination != tt.want || got.Data == nil {
			t.Errorf("NewPage(page %d) = %+v", tt.page, got.Pagination)
		}
	}
	if off := (PageQuery{Page: 3, Limit: 20}).Offset(); off != 40 {
		t.Fatalf("Offset = %d", off)
	}
}

func TestNestedAtMost(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{}`, true},
		{`[[1]]`, true},
		{`[[[1]]]`, false},
		{`{"a":{"b":1}}`, true},
		{`{"a":{"b":{"c":1}}}`, false},
		{`["[[[[", "{{{{"]`, true},      // brackets in strings are text
		{`["\"[[[[", "\\", [1]]`, true}, // an escaped quote does not end the string; \\ ends the escape
		{`["\\"` + `,[[1]]]`, false},    // after "\\" the string is over: these brackets count
		{`[1]]]]]]][[`, true},           // only depth counts; validity is the decoder's business
		{`"` + `[[[[[[`, true},          // an unterminated string
	}
	for _, tt := range tests {
		if got := nestedAtMost([]byte(tt.body), 2); got != tt.want {
			t.Errorf("nestedAtMost(%s, 2) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestSplitList(t *testing.T) {
	valid := func(s string) bool { return s == "a" || s == "b" }
	if got, err := SplitList("status", " a, b ", valid); err != nil || len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("a, b: %v %v", got, err)
	}
	for _, v := range []string{"a,a", "a,b,a", "c", "a,,b", strings.Repeat("a,", 500) + "a"} {
		var e *setyerr.Error
		if _, err := SplitList("status", v, valid); !errors.As(err, &e) || e.Field != "status" {
			t.Errorf("SplitList(%.20q) = %v, want Invalid naming status", v, err)
		}
	}
}
