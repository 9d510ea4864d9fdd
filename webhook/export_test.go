package webhook

import "time"

// SetAfter replaces time.After in s's wait between fan-outs (fanOutGap).
func SetAfter(s *Service, after func(time.Duration) <-chan time.Time) { s.after = after }

// FanOutGap is fanOutGap, for the tests of package webhook_test.
const FanOutGap = fanOutGap

// FollowGap and LeadEvery are followGap and leadEvery, for the tests of
// package webhook_test.
const (
	FollowGap = followGap
	LeadEvery = leadEvery
)
