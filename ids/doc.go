// Package ids makes Sety's identifiers: a type prefix and 16 lowercase
// base-36 characters from a CSPRNG ("inc_k7m2p9x4q1w8z3r5"), about 82 bits of
// randomness. Services take a [Generator] so tests can make ids predictable.
package ids
