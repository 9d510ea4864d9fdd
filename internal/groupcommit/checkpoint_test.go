package groupcommit

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestLongLogStartsOverDespiteACommitDuringTheCheckpoint: a commit that
// lands while a PASSIVE checkpoint copies leaves the log incomplete, so the
// next commit cannot start it over and the log keeps growing (what a steady
// load does all the time). With a limit, the checkpointer follows with a
// RESTART checkpoint that waits for that commit, and the next commit starts
// the log over (its file cut back to journal_size_limit).
func TestLongLogStartsOverDespiteACommitDuringTheCheckpoint(t *testing.T) {
	const limit = 256 << 10
	for _, tc := range []struct {
		name    string
		limit   int64
		cutBack bool
	}{
		{"limited", limit, true},
		{"unlimited", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "wal.db")
			dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
			writer := openOne(t, dsn+"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(262144)")
			checkpoints := openOne(t, dsn)
			c := &Checkpointer{conn: checkpoints, restartFrames: restartFrames(ctx, checkpoints, tc.limit)}
			if tc.cutBack && c.restartFrames == 0 {
				t.Fatal("no restart threshold for a limit")
			}
			if _, err := writer.ExecContext(ctx, `CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
				t.Fatal(err)
			}
			insert := func() {
				t.Helper()
				if _, err := writer.ExecContext(ctx, `INSERT INTO rows (body) VALUES (?)`, strings.Repeat("x", 3000)); err != nil {
					t.Fatal(err)
				}
			}
			for range 400 { // about 1.6 MB of log, nothing checkpointed
				insert()
			}
			grown := fileSize(t, path+"-wal")
			if grown < 4*limit {
				t.Fatalf("the log grew to %d bytes only", grown)
			}

			// A transaction of the writer is open while the checkpointer
			// runs, and commits then.
			tx, err := writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rows (body) VALUES ('during')`); err != nil {
				t.Fatal(err)
			}
			stepped := make(chan error, 1)
			go func() { stepped <- c.step(ctx) }()
			if !tc.cutBack {
				// PASSIVE waits for no one: it is over before the commit.
				if err := <-stepped; err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if tc.cutBack {
				// RESTART waits for the commit (whenever it came).
				if err := <-stepped; err != nil {
					t.Fatal(err)
				}
			}
			insert() // the next commit
			after := fileSize(t, path+"-wal")
			t.Logf("the log's file: %d bytes grown, %d after the next commit", grown, after)
			switch {
			case tc.cutBack && after > limit:
				t.Errorf("the log did not start over: its file is %d bytes (had grown to %d), want at most %d", after, grown, limit)
			case !tc.cutBack && after < grown:
				t.Errorf("with PASSIVE checkpoints only, the log started over anyway (%d → %d bytes): the test no longer shows what RESTART adds", grown, after)
			}
		})
	}
}

func openOne(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
