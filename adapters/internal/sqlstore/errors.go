package sqlstore

import (
	"context"
	"errors"

	"github.com/sety-io/sety/setyerr"
)

// Settled reports whether err needs no translation by an adapter: it is
// nil, the caller's own context ending, or a setyerr kind already (one
// translated below, or returned by the caller's change function).
func Settled(err error) bool {
	if err == nil { // first: the target errors.As fills would escape, an allocation per call
		return true
	}
	var kind *setyerr.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &kind)
}
