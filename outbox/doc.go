// Package outbox defines the transactional outbox record that ties Sety's
// domains to webhook delivery.
//
// A domain service that changes state writes the new state and an [Event]
// describing it in one store transaction, so an event exists if and only if
// its change was committed. The webhook worker reads pending events from the
// store; a domain's Notifier only wakes it early. A crash at any moment loses no
// event, and delivery is at least once.
//
// Readers follow the committed events through a [Log]; one that needs the
// data of few of the events it reads (the threat feed, which knows this
// process's creates already) reads them without it (Filter.Envelopes, and
// without subjects and sequences, Filter.Bare), then
// the data of those it needs, where a store may answer a create with a
// typed [Brief] of the few fields the feed reads (Filter.Brief); a store
// that is a [Briefer] gives the briefs of creates by their subjects,
// without reading the log again.
//
// It is a leaf package: domains produce events, the webhook package consumes
// them, and neither needs the other.
package outbox
