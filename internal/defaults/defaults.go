// Package defaults holds what a service gets for a dependency its caller
// left unset: the system clock, random ids, a logger that discards. Every
// service and the facade fill their Config from here, so they agree.
package defaults

import (
	"log/slog"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
)

// Clock returns now, or the system clock when now is nil.
func Clock(now clock.Func) clock.Func {
	if now == nil {
		return clock.System
	}
	return now
}

// IDs returns newID, or random ids when newID is nil.
func IDs(newID ids.Generator) ids.Generator {
	if newID == nil {
		return ids.New
	}
	return newID
}

// Logger returns log, or a logger that discards when log is nil.
func Logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
