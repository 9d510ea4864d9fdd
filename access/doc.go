// Package access lets visitors in: hosts issue access codes, gates validate
// them, and every visit is logged from check-in to checkout.
//
// Codes are random digits from crypto/rand (4–10, default 6), shown once
// and stored only as an HMAC-SHA256 keyed by a secret the deployment keeps
// outside the database (Config.CodeKey) and by the tenant. Digits are unique
// among a tenant's active codes. A code's status is derived when it is read:
// revoked, used (max_uses reached), expired (past valid_until), else active.
//
// Validation says why a code failed (not_found, revoked, used_up,
// not_yet_valid, expired) and, when the code is good and check-in is asked,
// counts the use and opens the visit in one store transaction: a code with
// max_uses n is never used n+1 times, however many gates race. Five
// guesses at one site within 10 minutes lock that site's validation for
// 10 minutes (locked), against guessing. A guess is a code that matches no
// code of the tenant at the site (not_found); a real code refused as used
// up, expired, not yet valid or revoked is not a guess and never locks the
// site, so a visitor retrying a spent code cannot shut the gate on others.
//
// Visits are checked out once (409 after), at a time not before the
// check-in nor in the future; a visit still open after expected_until is an
// overstay. Stats are computed in the store. Events: access.checked_in,
// access.checked_out, access.code_revoked.
package access
