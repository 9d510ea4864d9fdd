package groupcommit

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
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

// holdSnapshot opens a read transaction on reader and reads in it, so that
// it holds its snapshot until rolled back.
func holdSnapshot(t *testing.T, reader *sql.DB) *sql.Tx {
	t.Helper()
	snapshot, err := reader.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := snapshot.QueryRowContext(context.Background(), `SELECT count(*) FROM rows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return snapshot
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestRestartBacksOffWhileAReaderOutlastsIt: a reader holding an old
// snapshot makes a RESTART wait out its busy timeout, holding the writer
// back; the checkpointer then skips RESTART for a growing number of ticks
// instead of stalling the writer at every one, and tries every tick again
// once one succeeds.
func TestRestartBacksOffWhileAReaderOutlastsIt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	writer := openOne(t, dsn+"&_pragma=wal_autocheckpoint(0)")
	// One busy_timeout per DSN: the driver runs them first, in no set order.
	checkpoints := openOne(t, "file:"+path+"?_pragma=busy_timeout(1)&_pragma=journal_mode(WAL)")
	reader := openOne(t, dsn)
	c := &Checkpointer{conn: checkpoints, restartFrames: restartFrames(ctx, checkpoints, 64<<10)}
	if _, err := writer.ExecContext(ctx, `CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	insert := func(n int) {
		t.Helper()
		for range n {
			if _, err := writer.ExecContext(ctx, `INSERT INTO rows (body) VALUES (?)`, strings.Repeat("x", 3000)); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(10)
	snapshot := holdSnapshot(t, reader)
	insert(100) // the log past the limit, behind the reader's snapshot

	var skips []int
	for range 6 {
		if err := c.step(ctx); err != nil {
			t.Fatal(err)
		}
		skips = append(skips, c.skip)
	}
	// Tries at steps 1, 3 (after skipping 1) and 6 (after skipping 2).
	if want := []int{1, 1, 2, 2, 2, 4}; !slices.Equal(skips, want) {
		t.Fatalf("skip after each step while the reader holds on = %v, want %v", skips, want)
	}
	if err := snapshot.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range 5 { // wait out the skips, then a RESTART that succeeds
		if err := c.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c.skip != 0 {
		t.Errorf("skip = %d after the reader let go and a RESTART succeeded, want 0", c.skip)
	}
}

// TestWriterCheckpointStartsTheLogOver: a checkpoint the writer runs
// between two batches copies the whole log (no commit lands while it
// copies), so the next commit starts the log over and cuts its file back;
// without it, the next commit appends to the log. The checkpointer asks
// the writer on writerTries ticks and, if the log is still long after them
// (here a reader of an old snapshot keeps it), tries a RESTART.
func TestWriterCheckpointStartsTheLogOver(t *testing.T) {
	const limit = 256 << 10
	ctx := context.Background()
	for _, ask := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "wal.db")
		dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		write := openOne(t, dsn+"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(262144)")
		conn, err := write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := New(conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		insert := func(n int) {
			t.Helper()
			for range n {
				if err := w.Do(ctx, func(tx *Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO rows (body) VALUES (?)`, strings.Repeat("x", 3000))
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Do(ctx, func(tx *Tx) error {
			_, err := tx.ExecOnce(`CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		insert(400) // about 1.6 MB of log, nothing checkpointed
		grown := fileSize(t, path+"-wal")
		if ask {
			logFrames, copied, err := w.Checkpoint()
			if err != nil || logFrames == 0 || copied != logFrames {
				t.Fatalf("Checkpoint() = %d frames, %d copied, %v; want all of a long log copied", logFrames, copied, err)
			}
		}
		insert(1)
		after := fileSize(t, path+"-wal")
		switch {
		case ask && after > limit:
			t.Errorf("after the writer's checkpoint the log did not start over: its file is %d bytes (had grown to %d)", after, grown)
		case !ask && after < grown:
			t.Errorf("without the writer's checkpoint the log started over anyway (%d → %d bytes): the test shows nothing", grown, after)
		}
		if !ask {
			continue
		}

		// A reader's old snapshot keeps the log from starting over: the
		// checkpointer asks the writer at the first writerTries ticks,
		// tries a RESTART (which the reader outlasts) at the next, and
		// asks the writer again after it.
		reader := openOne(t, dsn)
		snapshot := holdSnapshot(t, reader)
		insert(200)
		checkpoints := openOne(t, "file:"+path+"?_pragma=busy_timeout(1)&_pragma=journal_mode(WAL)")
		c := &Checkpointer{conn: checkpoints, restartFrames: restartFrames(ctx, checkpoints, 64<<10), writer: w}
		type state struct{ asks, skip int }
		var want []state
		for i := range writerTries {
			want = append(want, state{i + 1, 0})
		}
		want = append(want, state{0, 1}) // the RESTART, outlasted
		for i, want := range want {
			if err := c.step(ctx); err != nil {
				t.Fatal(err)
			}
			if got := (state{c.writerAsks, c.skip}); got != want {
				t.Errorf("tick %d with the reader holding on: asked the writer %d times, skip %d; want %d, %d", i+1, got.asks, got.skip, want.asks, want.skip)
			}
		}
		if err := snapshot.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.Checkpoint(); err != ErrClosed {
			t.Errorf("Checkpoint after Close: %v, want ErrClosed", err)
		}
	}
}
