package webhook_test

import (
	"testing"

	"github.com/sety-io/sety/internal/clonetest"
	"github.com/sety-io/sety/webhook"
)

// Stores hand out clones: a field added without a line in Clone fails here.
func TestClonesAreDeep(t *testing.T) {
	clonetest.Check(t, (*webhook.Endpoint).Clone)
	clonetest.Check(t, (*webhook.Delivery).Clone)
}
