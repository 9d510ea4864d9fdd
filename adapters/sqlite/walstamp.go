package sqlite

import (
	"bytes"
	"os"
)

// walStamp is the WAL-index header of the database at one moment: SQLite
// rewrites it in every commit, by any connection of any process (its change
// counter, last frame and checksums move), so two equal stamps mean that no
// transaction committed between the two reads. A database that has not
// changed since an incident was read still holds the row that was read,
// and the get-incident read can answer from the decoded copy without asking
// SQLite at all (decoded.go).
//
// The header is the first 48 bytes of the "-shm" file, kept twice: SQLite
// writes the second copy, then the first, and its readers take a header
// only when both copies agree (https://sqlite.org/walformat.html, "The
// WAL-Index Header"). The stamp does the same.
type walStamp [walHeaderSize]byte

const walHeaderSize = 48

// walStamps reads stamps from the database's "-shm" file. It reads the file
// with pread, not a mapping of it, so a file that is truncated gives an
// unusable stamp, never a fault. SQLite removes the file only when the last
// connection to the database closes, and this handle's writer stays
// connected until Close; a file removed by hand under running processes
// would break SQLite's own locking before it broke the stamps.
type walStamps struct {
	shm *os.File
}

// openWALStamps opens path's WAL-index for reading stamps, or returns nil
// when it cannot (the database is then read the usual way).
func openWALStamps(path string) *walStamps {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	w := &walStamps{shm: f}
	if _, ok := w.read(); !ok {
		f.Close()
		return nil
	}
	return w
}

// read returns the current stamp, and false when there is none to trust:
// the two copies differ (a commit is writing them) or the header is not
// initialized.
func (w *walStamps) read() (walStamp, bool) {
	var buf [2 * walHeaderSize]byte
	var stamp walStamp
	if w == nil {
		return stamp, false
	}
	if n, err := w.shm.ReadAt(buf[:], 0); err != nil || n != len(buf) {
		return stamp, false
	}
	first, second := buf[:walHeaderSize], buf[walHeaderSize:]
	const isInit = 12 // the header's isInit byte: 1 once a connection has built the index
	if !bytes.Equal(first, second) || first[isInit] == 0 {
		return stamp, false
	}
	copy(stamp[:], first)
	return stamp, true
}

func (w *walStamps) close() error {
	if w == nil {
		return nil
	}
	return w.shm.Close()
}
