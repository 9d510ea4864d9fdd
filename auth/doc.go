// Package auth holds Sety's tenancy: organizations with a plan and a status,
// their live and test environments, API keys with scopes, and what turns a
// presented key, or a host's own authentication, into a [Principal]. Its
// HTTP side (the huma middleware, the key and session operations) is in
// auth/authapi: this package knows nothing of HTTP frameworks, so the
// storage adapters build without them.
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
// written in batches (Run, FlushLastUsed); a cached key records its use in
// its entry, with no lock shared by every request. The HTTP middleware
// authenticates with [Service.AuthenticateInto], which writes the
// principal into memory the request already holds.
//
// # Sessions
//
// The console signs in with a session (session.go, RegisterSessions): the
// credential of its cookie is a short-lived key whose ParentKeyID is the
// API key it was started with, and whose scopes and expiry are that key's
// (the expiry capped at Config.SessionTTL). A session ends when it expires,
// on sign-out, and with its key: when the key is revoked or expires, or no
// longer holds the session's scopes. Two mechanisms do this, for different
// jobs:
//
//   - Authentication checks the parent, and so does Verify, the event
//     stream's recheck of its open streams (a console's stream ends with
//     its key). A session's credential read from
//     the store (a cache miss) is refused unless its key, read too, is of
//     its tenant, unrevoked, unexpired and holds its scopes. This is the
//     rule: it holds whatever revoked the key (another instance, an
//     older release, the admin CLI, a hand-written store), and it closes
//     the one gap a cascade leaves: an instance whose cache still trusts
//     a key another instance has just revoked may start a session of it
//     after the cascade committed. That session is refused at its first
//     use. The check costs one read by primary key, on a session's cache
//     miss only (once per KeyCacheTTL per session); API keys pay nothing.
//   - Revocation cascades (Store.RevokeAPIKey), in the revocation's
//     transaction: the sessions of the key get their revoked_at, so the key
//     list shows them ended and the purge below finds them. Revoking a key revoked already cascades
//     again, so it also records the late session above.
//
// Timing is the key cache's: the instance that revokes drops the key and
// its sessions from its cache at once; others refuse them within
// KeyCacheTTL, as they do the key. A session's credential cannot start a
// session (so none can renew itself), nor revoke its own key.
//
// Records of ended sessions are deleted Config.SessionRetention (7 days)
// after they ended, by [Service.PurgeSessions], which Run calls when it
// starts and every hour: a batch of 1,000 per store call, found through
// indexes of the sessions alone, so a purge costs what it deletes. The
// delete is idempotent and takes no lease: instances purging at once each
// delete what is left (PostgreSQL skips rows another purge holds), and
// nothing is deleted twice. API keys are never deleted.
//
// # Administration
//
// The HTTP operations only ever show a tenant its own keys. An operator's
// tools (the example server's `keys` and `orgs` commands) work across
// tenants through the Service: [Service.Organizations] pages through every
// organization, [Service.Key] finds any tenant's key by its id (then
// [Service.RevokeKey] in its tenant), [Service.SetOrganizationStatus]
// suspends or resumes one. [Scopes] is the list of scopes a key may hold.
//
// # Rate limits
//
// Each organization and environment (a [Tenant]) may make its plan's
// limits (Config.Limits, [DefaultLimits]) of requests in any [Window] of 60 s: a sliding window, so no
// minute's edge lets two bursts through. Within one process
// ([NewMemoryRateLimiter], what Sety uses over the memory adapter) the
// limiter keeps every admission's time and is exact to the request.
//
// Instances sharing a store (SQLite, PostgreSQL) must agree, but writing
// every admission to the store makes every read a write. A [LeaseLimiter]
// instead takes budget from the store in leases: in one write, an
// instance claims some slots of a tenant's remaining budget and admits
// requests from memory until they are spent or the lease expires, then
// ends it — with the next lease, in the same write, or in a sweep that
// ends every expired lease of the instance in one write — giving back
// what it did not use.
//
// What the store knows of a lease granted at g with n slots, open until u:
// its slots c and the latest time ℓ it may hold an admission. While it is
// open, c = n and ℓ = u − 1 ms. When it ends, c becomes the slots it used
// and ℓ its last admission (a lease that admitted nothing is deleted). So
// whatever the store shows, a lease's admissions are at most c, all at or
// before ℓ, and all at or after g.
//
// The rule ([LeaseRequest.Grant]): a lease requested at g is granted at
// most L − C slots, where L is the plan's limit and C the sum of c over
// the tenant's leases with ℓ > g − Window; the store counts and records in
// one atomic step (SQLite's single writer; PostgreSQL under a per-tenant
// advisory lock).
//
// Why no span [t, t + Window) ever admits more than L, across every
// instance: take the leases that admitted in the span, and k the one
// granted last (in the store's order). Every other such lease j admitted
// at some s_j ≥ t, and k at some s_k with g_k ≤ s_k < t + Window. Then
// ℓ_j ≥ s_j ≥ t > s_k − Window ≥ g_k − Window: j was counted when k was
// granted, with c_j no less than what j admits in all (c shrinks only to
// the slots used, once the lease admits no more). So the span holds at
// most C + (L − C) = L admissions. The argument needs no order between
// grant times, only one clock: instances whose clocks differ by δ can
// admit L in a span of Window − δ.
//
// What exactness costs, and the bounds that keep it small:
//
//   - An admission counts against later grants until its lease's ℓ +
//     Window, not its own time + Window: up to the lease's length later.
//     Leases of a tenant near its limit (under half of it unleased at the
//     last grant) last [LeaseConfig.Length], 2 s by default, and hold at
//     most an eighth of the limit.
//   - An idle instance does not hoard: a lease of a tenant near its limit
//     lasts Length, and the sweep, every quarter Length, ends expired
//     leases, so its unused slots go back within 1.25 × Length. A tenant
//     far from its limit (half of it or more unleased) gets leases long
//     enough for about 128 of its requests, up to [LeaseConfig.MaxLength]
//     (30 s), but only of the slots that rate needs: what they hold back
//     is a small part of a budget nobody is short of. A lease used up is
//     ended with the next one; [LeaseLimiter.Release] (when Run stops)
//     ends them all.
//   - A tenant far from its limit does not wait for the store: the sweep
//     renews its lease (ends it and takes the next in one write) in the
//     last half Length before it expires, or once three quarters of its
//     slots are used, while the tenant made a request in the last Window. So a tenant making a request every few seconds,
//     or a minute, finds a lease open, instead of taking one with a
//     request in three; a tenant that stops costs at most two leases more
//     (one slot each). Tenants near their limit renew with their
//     requests, as before: an early end would hold back budget.
//   - A crashed instance's lease is never ended: it counts n slots up to
//     u − 1 ms, as if all were used at its last moment — which is all an
//     exact count can assume — and stops counting at u − 1 ms + Window.
//     Nothing holds budget past that.
//   - Two instances sharing a tenant's load keep at least 90 % of what an
//     exact limiter admits: a simulation in the tests replays steady,
//     Poisson, bursty and shifting loads on every plan (92–100 %).
//
// Writes: one per lease (a renewal is the write the next request would
// have made). A tenant's first lease takes a twentieth of its
// limit; later ones follow the rate its last lease saw (a quarter more,
// capped at an eighth of the limit), so 300 requests of an enterprise key
// in a burst cost three leases, and a tenant far from its limit writes
// about once per 64 requests, or once per MaxLength when slower. Each
// tenant an instance serves has one lease at a time — an instance serving
// 200 organizations writes for the tenants a burst touches, one lease
// each, and SQLite's group commit folds concurrent grants into one commit.
// Concurrent requests of a tenant wait for one store visit. A refused
// tenant is refused from memory for a quarter Length (or until Reset),
// then the store is read again; a refusal writes only to end a spent
// lease.
//
// Headers: X-RateLimit-Remaining is the lease's unspent slots plus what
// the store had unleased at this instance's last visit (under a Length
// ago, or MaxLength for a tenant using less than half its limit), never
// more than the limit. With one instance it is never high (the leases'
// over-count makes it low); with several, requests through the others
// since that visit are not in it, as concurrent requests never are.
// X-RateLimit-Reset is when the counted budget next goes down as the last
// visit saw it (once past, the instance's own lease's ℓ + Window), and a
// 429's Retry-After counts down to it: by then the earliest lease counted
// at the refusal has left the window.
package auth
