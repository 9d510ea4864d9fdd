package prometheus

import "github.com/sety-io/sety/webhook"

// Webhooks returns cfg with m's hooks added: m hears of every delivery
// attempt and every purge first, then the hooks cfg had (a host's own).
func (m *Metrics) Webhooks(cfg webhook.Config) webhook.Config {
	cfg.OnAttempt = both(m.Attempted, cfg.OnAttempt)
	cfg.OnPurge = both(m.Purged, cfg.OnPurge)
	return cfg
}

// both returns a hook that calls first, then then (when set).
func both[A, B any](first, then func(A, B)) func(A, B) {
	if then == nil {
		return first
	}
	return func(a A, b B) { first(a, b); then(a, b) }
}
