package main

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", as the SQLite adapter uses
)

// unscheduleQuery takes the create rounds' incidents out of the engine's
// schedule (Tracking.DueAt, the column the engine's sweep of due incidents
// reads). A low-severity incident is due at its assignment SLA, 5 minutes
// after its creation; a run lasts longer, so without this, each server's
// engine would record the breaches of an earlier round's incidents while
// a later round is measured: work of another kind, as much as that round
// created, landing on whichever measurement comes 5 minutes later.
const unscheduleQuery = `UPDATE incidents SET due_at = NULL WHERE environment = 'live' AND due_at IS NOT NULL`

// unschedule runs unscheduleQuery on both databases. The SQLite server
// keeps running: this connection waits for its writer (busy_timeout) and
// leaves checkpoints to it (wal_autocheckpoint(0), as the server's own).
func (b *bench) unschedule(ctx context.Context) error {
	for _, conn := range []*pgx.Conn{b.monitor, b.baseConn} {
		if conn == nil {
			continue
		}
		if _, err := conn.Exec(ctx, unscheduleQuery); err != nil {
			return fmt.Errorf("unschedule on PostgreSQL: %w", err)
		}
	}
	if b.sqliteDB == nil {
		var err error
		b.sqliteDB, err = sql.Open("sqlite", "file:"+b.sqlitePath+"?_pragma=busy_timeout(30000)&_pragma=wal_autocheckpoint(0)")
		if err != nil {
			return err
		}
		b.sqliteDB.SetMaxOpenConns(1)
	}
	if _, err := b.sqliteDB.ExecContext(ctx, unscheduleQuery); err != nil {
		return fmt.Errorf("unschedule on SQLite: %w", err)
	}
	return nil
}
