package memory

import (
	"fmt"

	"github.com/sety-io/sety/setyerr"
)

func errDuplicate(id string) error {
	return setyerr.E(setyerr.Conflict, "%s already exists", id)
}

// errNoOrg mirrors a foreign-key failure: a row referring to an organization
// that does not exist is a bug in the caller, so it is internal.
func errNoOrg(id string) error {
	return fmt.Errorf("memory: organization %s does not exist", id)
}

// checkNew refuses a row whose organization does not exist, as a foreign
// key would, or whose id table already holds; callers hold mu.
func checkNew[V any](s *Store, table map[string]V, orgID, id string) error {
	if _, ok := s.orgs[orgID]; !ok {
		return errNoOrg(orgID)
	}
	if _, ok := table[id]; ok {
		return errDuplicate(id)
	}
	return nil
}
