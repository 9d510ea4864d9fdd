package auth

import (
	"context"
	"sync"
)

// memoryLeases is a RateLeaseStore in memory, for this package's tests of
// the limiter: the rule the SQL adapters implement (and the conformance
// suite holds them to), over a map.
type memoryLeases struct {
	mu     sync.Mutex
	leases map[string]*storedLease
	takes  int // TakeLease calls
	grants int // TakeLease calls that granted a lease
	writes int // calls that changed something
	fail   error
}

type storedLease struct {
	tenant Tenant
	slots  int
	last   int64
}

func newMemoryLeases() *memoryLeases { return &memoryLeases{leases: map[string]*storedLease{}} }

func (m *memoryLeases) TakeLease(_ context.Context, req LeaseRequest) (LeaseGrant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.takes++
	if m.fail != nil {
		return LeaseGrant{}, m.fail
	}
	if req.End != nil {
		m.end(*req.End)
		m.writes++
	}
	after := CountedAfter(req.At)
	used, earliest := 0, int64(0)
	for id, s := range m.leases {
		switch {
		case s.tenant != req.Tenant:
		case s.last <= after:
			delete(m.leases, id)
		case used == 0 || s.last < earliest:
			used, earliest = used+s.slots, s.last
		default:
			used += s.slots
		}
	}
	g := req.Grant(used, earliest)
	if g.Slots > 0 {
		m.grants++
		m.leases[req.ID] = &storedLease{tenant: req.Tenant, slots: g.Slots, last: req.Until - 1}
		if req.End == nil {
			m.writes++
		}
	}
	return g, nil
}

func (m *memoryLeases) EndLeases(_ context.Context, ends []LeaseEnd, forget int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.writes++
	for _, e := range ends {
		m.end(e)
	}
	for id, s := range m.leases {
		if s.last <= forget {
			delete(m.leases, id)
		}
	}
	return nil
}

func (m *memoryLeases) end(e LeaseEnd) {
	s := m.leases[e.ID]
	switch {
	case s == nil || s.tenant != e.Tenant:
	case e.Used == 0:
		delete(m.leases, e.ID)
	case e.Used <= s.slots && e.Last <= s.last:
		s.slots, s.last = e.Used, e.Last
	}
}

// open is how many leases the store holds.
func (m *memoryLeases) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leases)
}
