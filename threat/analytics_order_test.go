package threat

import (
	"reflect"
	"testing"
	"time"
)

// Repeat locations with as many incidents come south to north, then west
// to east, every time: cells on one diagonal (whose longitude and latitude
// add up alike) were once in the map's order.
func TestRepeatLocationsInATotalOrder(t *testing.T) {
	e := NewEngine(Config{Now: func() time.Time { return exactNow }})
	x, y := e.g.col(Lagos.Lng()), e.g.row(Lagos.Lat())
	var planted []cellKey
	for i := int32(-2); i <= 2; i++ {
		planted = append(planted, keyOf(x+i, y-i)) // one diagonal
		if i != 0 {
			planted = append(planted, keyOf(x+i, y+i)) // and the other
		}
	}
	for n, k := range planted {
		for j := range 4 {
			e.Add(Report{At: exactNow.Add(-time.Duration(n*4+j+1) * time.Hour), Location: e.g.center(k), Category: Categories[0], Severity: Severities[0]})
		}
	}
	want := []RepeatLocation{ // the five southernmost, westernmost first
		{Center: e.g.center(keyOf(x-2, y-2)), Count: 4}, {Center: e.g.center(keyOf(x+2, y-2)), Count: 4},
		{Center: e.g.center(keyOf(x-1, y-1)), Count: 4}, {Center: e.g.center(keyOf(x+1, y-1)), Count: 4},
		{Center: e.g.center(keyOf(x, y)), Count: 4},
	}
	for range 30 {
		a, err := e.Analytics(AnalyticsQuery{Location: e.g.center(keyOf(x, y))})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Patterns.RepeatLocations; !reflect.DeepEqual(got, want) {
			t.Fatalf("repeat locations %v, want %v", got, want)
		}
	}
}
