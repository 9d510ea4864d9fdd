package auth

// CachedKeys is how many keys s's cache holds.
func CachedKeys(s *Service) int { return s.keys.len() }

// NewMemoryLeases is the tests' lease store in memory.
func NewMemoryLeases() RateLeaseStore { return newMemoryLeases() }
