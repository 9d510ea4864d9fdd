// Package sqlstore holds what the SQL adapters (sqlite on database/sql,
// postgres on pgx) do alike: reading rows into values, the errors that
// need no translation, and decoding the rows both store in the same
// columns. What differs between the databases (placeholders, time
// columns, locking, error codes) stays in each adapter; the helpers here
// take the adapter's own piece as an argument where they need one.
package sqlstore
