// Package clock holds Sety's notion of time: the injected clock every service
// reads instead of calling time.Now, a fake clock for tests, and [Time], the
// wire form of a timestamp (RFC 3339, UTC, always with milliseconds, null when
// unset).
//
// Adapters never read the clock; every timestamp they store was stamped by a
// service, so tests control time completely.
package clock
