package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sety-io/sety/adapters/sqlite"
)

// migrate opens the database, which applies its pending migrations (and
// creates a SQLite file that does not exist), and closes it.
func migrate(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("migrate")
	if _, err := c.parse(fs, st, args, nil); err != nil {
		return err
	}
	_, done, err := c.open(ctx, *st, true)
	if err != nil {
		return err
	}
	done()
	fmt.Fprintf(c.stdout, "Migrated %s: its schema is this release's.\n", storageName(config{storage: *st}))
	return nil
}

// backup copies the SQLite database to a new file while servers use it.
func backup(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("backup")
	got, err := c.parse(fs, st, args, []string{"FILE"})
	if err != nil {
		return err
	}
	if st.databaseURL != "" {
		return usageErrorf("backup copies a SQLite database (-db); back up PostgreSQL with its own tool, pg_dump: " +
			`pg_dump --format=custom --file=sety.dump "$SETY_DATABASE_URL" (pg_restore puts it back)`)
	}
	if err := st.mustExist(false); err != nil {
		return err
	}
	to := got[0]
	if err := sqlite.BackupFile(ctx, st.dbPath, to); errors.Is(err, sqlite.ErrBackupExists) {
		return fmt.Errorf("%s exists already: a backup never overwrites a file; name a new one", to)
	} else if err != nil {
		return err
	}
	info, err := os.Stat(to)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Backed up %s to %s (%d bytes): every write committed before the backup began. Start a server on it with -db %s.\n",
		st.dbPath, to, info.Size(), to)
	return nil
}
