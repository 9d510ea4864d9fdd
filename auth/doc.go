// Package auth holds Sety's tenancy: organizations with a plan and a status,
// their live and test environments, API keys with scopes, and the huma
// middleware that turns an Authorization header into a [Principal].
//
// Keys look like sety_live_<32 hex> or sety_test_<32 hex> (128 random bits).
// Only the SHA-256 of a key is stored; the full key is shown once, when it is
// issued. A look-up by hash is followed by a constant-time comparison.
//
// Every request is checked in this order, and the first failure answers:
//
//	401 no key, a malformed, unknown, revoked or expired key
//	402 the organization is suspended or its plan has no API access
//	403 the key lacks the operation's scope
//
// A [Tenant] (organization + environment) scopes every read and write in the
// other domains: data of another organization or of the other environment is
// simply not found.
//
// # The key cache
//
// A key that authenticated is remembered in the process (by its hash: its
// tenant, scopes, plan and expiry) for [Config.KeyCacheTTL], 10 s by default,
// so a request with a known key reads nothing from the store; a miss reads
// the key and its organization in one store call. Expiry is checked on every
// request, to the millisecond. A revocation (RevokeKey, RevokeKeyAs) or a
// suspension (SetOrganizationStatus) made through this [Service] applies to
// the very next request. Made through another instance sharing the store, it
// reaches this one within the TTL: a key revoked through another instance
// keeps working on this one for at most KeyCacheTTL. Only keys that pass
// every check are cached, at most [Config.KeyCacheSize] of them, so unknown
// or revoked keys cannot fill memory. The last use of a key is still
// written in batches (Run, FlushLastUsed).
//
// # Administration
//
// The HTTP operations only ever show a tenant its own keys. An operator's
// tools (the example server's `keys` and `orgs` commands) work across
// tenants through the Service: [Service.Organizations] pages through every
// organization, [Service.Key] finds any tenant's key by its id (then
// [Service.RevokeKey] in its tenant), [Service.SetOrganizationStatus]
// suspends or resumes one. [Scopes] is the list of scopes a key may hold.
package auth
