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
