// Package ids makes Sety's identifiers: a type prefix and 16 lowercase
// base-36 characters ("inc_mhz3k2a1q1w8z3r5"). The first 8 are the
// creation millisecond, so ids sort by when they were made; the last 8 come
// from a CSPRNG, about 41 bits a millisecond. Ids are names, not secrets:
// a tenant reads only its own things whatever ids it sends. Time-ordered
// ids keep every table's key index growing at its right edge, which made
// SQLite's group commit write fewer pages per create (about 25% more
// creates a second in bench/http.sh). Services take a [Generator] so tests
// can make ids predictable.
package ids
