// Package setyerr defines the kinds of error Sety's services return and the
// one mapping from a kind to the wire error of the Sety API:
//
//	{"code": 404, "message": "Incident not found"}
//
// Adapters translate their native errors (sql.ErrNoRows, constraint
// violations) into kinds; services return kinds; the HTTP layer calls
// [Wire] and nothing else to decide a status. An error without a kind is
// internal: its text is never shown to a client.
//
// It is a leaf package with no dependencies outside the standard library.
package setyerr
