package incident_test

import (
	"testing"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/clonetest"
)

// Stores hand out clones: a field added without a line in Clone fails here.
func TestClonesAreDeep(t *testing.T) {
	clonetest.Check(t, (*incident.Incident).Clone)
	clonetest.Check(t, (*incident.Responder).Clone)
}
