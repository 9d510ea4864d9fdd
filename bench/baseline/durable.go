package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the driver Sety's SQLite adapter uses

	"github.com/sety-io/sety/internal/groupcommit"
)

// durableStore is the floor under a durable create: what any server that
// keeps an incident on SQLite and tells webhooks of it must pay at least.
// It opens its file as Sety's SQLite adapter does (the same driver, WAL,
// synchronous=FULL, a checkpointer off the writer) and writes through the
// same group commit (internal/groupcommit), and a create writes one JSON
// row and one event row: no index but the incident's key, no counts, no
// dispatch, no second event.
type durableStore struct {
	writer      *groupcommit.Writer
	write, read *sql.DB
	checkpoints *groupcommit.Checkpointer
}

// walSizeLimit is the SQLite adapter's default Options.WALSizeLimit, and
// its checkpointer's busy timeout is the adapter's: the same checkpoints
// as Sety's.
const walSizeLimit = 64 << 20

const durableSchema = `
CREATE TABLE IF NOT EXISTS incidents (
    id  TEXT PRIMARY KEY,
    doc TEXT NOT NULL -- the incident's JSON, as a get answers it
) STRICT;
CREATE TABLE IF NOT EXISTS events (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data       TEXT NOT NULL, -- {"incident": ...}, as a webhook receives it
    created_at INTEGER NOT NULL
) STRICT;`

// openDurable opens (creating) the baseline's database at path with the
// pragmas of sqlite.Open.
func openDurable(ctx context.Context, path string) (*durableStore, error) {
	pragmas := "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)" + pragmas
	write, err := sql.Open("sqlite", dsn+"&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit("+strconv.Itoa(walSizeLimit)+")")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	conn, err := write.Conn(ctx)
	if err != nil {
		write.Close()
		return nil, err
	}
	w, err := groupcommit.New(conn, nil)
	if err != nil {
		conn.Close()
		write.Close()
		return nil, err
	}
	s := &durableStore{writer: w, write: write}
	if err := s.writer.Do(ctx, func(tx *groupcommit.Tx) error { _, err := tx.ExecOnce(durableSchema); return err }); err != nil {
		s.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	if s.read, err = sql.Open("sqlite", dsn+"&_pragma=query_only(1)"); err != nil {
		s.Close()
		return nil, err
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)
	checkpoints, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)"+pragmas) // one busy_timeout per DSN
	if err != nil {
		s.Close()
		return nil, err
	}
	checkpoints.SetMaxOpenConns(1)
	s.checkpoints = groupcommit.StartCheckpointer(checkpoints, walSizeLimit, s.writer)
	return s, nil
}

// create commits the incident's row and its event in one transaction of a
// group commit, and returns once that commit is on disk.
func (s *durableStore) create(ctx context.Context, inc *incident, now time.Time) error {
	doc, data, evID, err := rowsOf(inc)
	if err != nil {
		return err
	}
	return s.writer.Do(ctx, func(tx *groupcommit.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, doc) VALUES (?, ?)`, inc.ID, string(doc)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (id, subject_id, data, created_at) VALUES (?, ?, ?, ?)`,
			evID, inc.ID, string(data), now.UnixMilli())
		return err
	})
}

// rowsOf is what a durable baseline stores of inc: its JSON, as a get
// answers it, and its event's data and id.
func rowsOf(inc *incident) (doc, data []byte, evID string, err error) {
	if doc, err = json.Marshal(inc); err != nil {
		return nil, nil, "", err
	}
	data = make([]byte, 0, len(doc)+14)
	data = append(append(append(data, `{"incident":`...), doc...), '}')
	return doc, data, "evt_" + inc.ID[len("inc_"):], nil
}

// get returns the incident's stored JSON; nil when there is none.
func (s *durableStore) get(ctx context.Context, id string) ([]byte, error) {
	var doc []byte
	err := s.read.QueryRowContext(ctx, `SELECT doc FROM incidents WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return doc, err
}

// Close lets queued writes finish and closes the file.
func (s *durableStore) Close() error {
	errs := []error{s.writer.Close()}
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.Close())
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	return errors.Join(append(errs, s.write.Close())...)
}
