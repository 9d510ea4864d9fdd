package incident

import (
	"context"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/ids"
)

// SharedReader is a Store that keeps one decoded copy of each incident it
// read lately, per stored state, and can hand that copy out without
// copying it. The SQLite adapter is one.
type SharedReader interface {
	// PeekIncident answers as GetIncident does, but with the kept copy
	// itself: nobody may change it. As long as the stored incident does
	// not change (and the store keeps it), every call returns the same
	// pointer; after a change, another one.
	PeekIncident(ctx context.Context, tenant auth.Tenant, id string) (*Incident, error)
}

// Version identifies one stored state of one incident, as read by Peek: two
// reads with equal, non-zero Versions read the same stored incident. The
// zero Version identifies nothing (the store keeps no shared copies).
type Version struct{ kept *Incident }

// Peek is Get for a caller that only reads the answer (to encode it, say)
// and neither changes nor keeps it: the incident may be the store's kept
// copy itself, or share memory with it. Its SLA fields are worked out for
// now, as Get's are.
// With a SharedReader store the answer costs no copy of the incident, and
// its Version lets the caller reuse what it derived from an earlier read of
// the same state (the SLA fields aside, which depend on the clock too).
func (s *Service) Peek(ctx context.Context, tenant auth.Tenant, id string) (*Incident, Version, error) {
	shared, ok := s.store.(SharedReader)
	if !ok {
		inc, err := s.Get(ctx, tenant, id)
		return inc, Version{}, err
	}
	if err := tenant.Validate(); err != nil {
		return nil, Version{}, err
	}
	if !ids.Valid("inc", id) {
		return nil, Version{}, ErrNotFound
	}
	kept, err := shared.PeekIncident(ctx, tenant, id)
	if err != nil {
		return nil, Version{}, err
	}
	// Most gets find the SLA figures the kept copy shows (a finished
	// incident's never move; a running one's move when a target passes or
	// is at risk): those answer with the kept copy itself. Only a view
	// whose figures moved is a copy, with its own SLA.
	now, ok := kept.slaAt(s.now())
	if !ok || now.SameFigures(*kept.SLA) {
		return kept, Version{kept}, nil
	}
	view, sla := *kept, now // only these escape, on this path alone
	view.SLA = &sla
	return &view, Version{kept}, nil
}
