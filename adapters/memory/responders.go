package memory

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

type responderKey struct {
	tenant auth.Tenant
	id     string
}

// gridDegrees is the cell size of the spatial index of available
// responders: about 1.1 km of latitude.
const gridDegrees = 0.01

type cell struct{ x, y int }

func cellOf(p geo.Point) cell {
	return cell{int(math.Floor(p.Lng() / gridDegrees)), int(math.Floor(p.Lat() / gridDegrees))}
}

// availableIndex is a grid of a tenant's available responders.
type availableIndex struct {
	cells map[cell]map[string]*incident.Responder
	count int
}

func (s *Store) indexOf(t auth.Tenant) *availableIndex {
	idx := s.available[t]
	if idx == nil {
		idx = &availableIndex{cells: map[cell]map[string]*incident.Responder{}}
		s.available[t] = idx
	}
	return idx
}

// reindex keeps the grid in step with r's stored state; callers hold mu.
func (s *Store) reindex(old, r *incident.Responder) {
	if old != nil && old.Status == incident.Available {
		idx := s.indexOf(old.Tenant())
		c := cellOf(old.Location)
		delete(idx.cells[c], old.ID)
		if len(idx.cells[c]) == 0 {
			delete(idx.cells, c)
		}
		idx.count--
	}
	if r != nil && r.Status == incident.Available {
		idx := s.indexOf(r.Tenant())
		c := cellOf(r.Location)
		if idx.cells[c] == nil {
			idx.cells[c] = map[string]*incident.Responder{}
		}
		idx.cells[c][r.ID] = r
		idx.count++
	}
}

// putResponder stores r (a copy the store owns); callers hold mu.
func (s *Store) putResponder(r *incident.Responder) {
	k := responderKey{r.Tenant(), r.ID}
	old := s.responders[k]
	s.responders[k] = r
	s.reindex(old, r)
}

type responderStore Store

func (m *responderStore) UpdateResponder(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Responder, bool) error) (*incident.Responder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[tenant.OrgID]; !ok {
		return nil, errNoOrg(tenant.OrgID)
	}
	cur, exists := s.responders[responderKey{tenant, id}]
	next := &incident.Responder{ID: id, OrgID: tenant.OrgID, Environment: tenant.Env}
	if exists {
		next = cur.Clone()
	}
	if err := change(next, exists); err != nil {
		return nil, err
	}
	next.ID, next.OrgID, next.Environment = id, tenant.OrgID, tenant.Env
	s.putResponder(next.Clone())
	return next, nil
}

func (m *responderStore) ListResponders(ctx context.Context, tenant auth.Tenant, f incident.ResponderFilter) ([]*incident.Responder, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	match := matching(s.responders, func(r *incident.Responder) bool {
		return r.Tenant() == tenant && (f.Status == "" || r.Status == f.Status) && (f.ID == "" || r.ID == f.ID)
	})
	byID := func(a, b *incident.Responder) int { return strings.Compare(a.ID, b.ID) }
	items, total := page(match, byID, f.Offset, f.Limit, (*incident.Responder).Clone)
	return items, total, nil
}

type candidate struct {
	r *incident.Responder
	d float64
}

// NearestAvailable searches the grid ring by ring outwards and stops once
// no unvisited cell can hold anything nearer than the limit-th best found,
// or once the rings pass withinM.
func (m *responderStore) NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int, withinM float64) ([]*incident.Responder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nearestAvailable(tenant, at, limit, withinM), nil
}

// nearestAvailable is NearestAvailable for callers that hold mu.
func (s *Store) nearestAvailable(tenant auth.Tenant, at geo.Point, limit int, withinM float64) []*incident.Responder {
	idx := s.available[tenant]
	if idx == nil || idx.count == 0 || limit <= 0 {
		return nil
	}
	inReach := func(found []*incident.Responder) []*incident.Responder {
		if withinM <= 0 {
			return found
		}
		return slices.DeleteFunc(found, func(r *incident.Responder) bool { return geo.Distance(at, r.Location) > withinM })
	}
	if idx.count <= smallPool {
		return inReach(nearestOf(idx, at, limit))
	}
	var found []candidate
	add := func(c cell) {
		for _, r := range idx.cells[c] {
			found = append(found, candidate{r, geo.Distance(at, r.Location)})
		}
	}
	// The narrowest side of a cell near at bounds how far ring k is.
	side := gridDegrees * 111195 * math.Max(math.Cos(at.Lat()*math.Pi/180), 0.01)
	center := cellOf(at)
	seen := 0
	maxRing := 200
	if withinM > 0 {
		maxRing = min(maxRing, int(math.Ceil(withinM/side))+1)
	}
	for k := 0; k <= maxRing && seen < idx.count; k++ {
		for x := center.x - k; x <= center.x+k; x++ {
			for y := center.y - k; y <= center.y+k; y++ {
				if max(abs(x-center.x), abs(y-center.y)) != k {
					continue
				}
				before := len(found)
				add(cell{x, y})
				seen += len(found) - before
			}
		}
		if len(found) >= limit {
			sortCandidates(found)
			if found[limit-1].d <= float64(k)*side {
				return inReach(pick(found, limit))
			}
		}
	}
	if seen < idx.count && withinM <= 0 { // far-flung pool: finish with a scan of the rest
		return nearestOf(idx, at, limit)
	}
	sortCandidates(found)
	return inReach(pick(found, limit))
}

// smallPool is the pool size under which a scan beats walking empty cells.
const smallPool = 256

// nearestOf scans every available responder of idx.
func nearestOf(idx *availableIndex, at geo.Point, limit int) []*incident.Responder {
	found := make([]candidate, 0, idx.count)
	for _, cellMap := range idx.cells {
		for _, r := range cellMap {
			found = append(found, candidate{r, geo.Distance(at, r.Location)})
		}
	}
	sortCandidates(found)
	return pick(found, limit)
}

func sortCandidates(c []candidate) {
	slices.SortFunc(c, func(a, b candidate) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		if c := a.r.IdleSince.Compare(b.r.IdleSince.Time); c != 0 {
			return c
		}
		return strings.Compare(a.r.ID, b.r.ID)
	})
}

func pick(c []candidate, limit int) []*incident.Responder {
	out := make([]*incident.Responder, 0, min(limit, len(c)))
	for _, cand := range c[:min(limit, len(c))] {
		out = append(out, cand.r.Clone())
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// applyEffects claims and releases responders for an incident change;
// callers hold mu. It checks everything before changing anything.
func (s *Store) applyEffects(tenant auth.Tenant, incidentID string, e incident.Effects) error {
	var claim *incident.Responder
	if e.Claim != "" {
		cur, ok := s.responders[responderKey{tenant, e.Claim}]
		if !ok || cur.Status != incident.Available {
			return incident.ErrResponderUnavailable
		}
		claim = cur.Clone()
		claim.Status, claim.IncidentID, claim.UpdatedAt = incident.Busy, &incidentID, clock.At(e.At)
	}
	if e.Release != "" {
		if cur, ok := s.responders[responderKey{tenant, e.Release}]; ok && cur.IncidentID != nil && *cur.IncidentID == incidentID {
			r := cur.Clone()
			r.Status, r.IncidentID, r.IdleSince, r.UpdatedAt = incident.Available, nil, clock.At(e.At), clock.At(e.At)
			s.putResponder(r)
		}
	}
	if claim != nil {
		s.putResponder(claim)
	}
	return nil
}
