package clock

import (
	"sync"
	"time"
)

// Func returns the current time. Services take one so tests can inject theirs.
type Func func() time.Time

// System is the real wall clock.
func System() time.Time { return time.Now() }

// Stamp returns now in UTC truncated to milliseconds, the precision Sety
// stores and shows. Truncating once, where time enters, keeps the stored value
// and the value shown to clients identical.
func Stamp(now Func) time.Time { return now().UTC().Truncate(time.Millisecond) }

// Fake is a clock that moves only when told to. It is safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}
