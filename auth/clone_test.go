package auth_test

import (
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/clonetest"
)

// Stores hand out clones: a field added without a line in Clone fails here.
func TestCloneIsDeep(t *testing.T) { clonetest.Check(t, (*auth.APIKey).Clone) }
