package sqlite

import (
	"bytes"
	"encoding/binary"
	"os"
	"sync"
	"syscall"
)

// walStamp is the WAL-index header of the database at one moment. SQLite
// rewrites it in every commit, by any connection of any process, before
// the COMMIT returns: the commit's frames move its last frame (mxFrame) and
// its change counter (iChange), and its checksums follow. A checkpoint that
// restarts the WAL draws new salts, and recovery rebuilds it: those only
// change the header when the data has not, never the reverse. So two equal
// stamps mean that no transaction committed between the two reads. A
// database that has not changed since an incident was read still holds the
// row that was read, and the get-incident read can answer from the decoded
// copy without asking SQLite at all (decoded.go).
//
// The header is the first 48 bytes of the "-shm" file, kept twice
// (https://sqlite.org/walformat.html, "The WAL-Index Header"). SQLite
// writes the second copy, then the first; its readers read the first, then
// the second, and take the header only when both agree and its checksum
// holds. The stamp is read the same way: one pread, which copies the first
// copy before the second, and the same two checks.
type walStamp [walHeaderSize]byte

const (
	walHeaderSize    = 48
	walIndexVersion  = 3007000 // iVersion of the header this layout describes
	walHeaderSummed  = 40      // the bytes aCksum covers
	walHeaderIsInit  = 12      // offset of isInit: 1 once a connection has built the index
	walHeaderCksumAt = 40      // offset of aCksum[2]
)

// walStamps reads stamps from the database's "-shm" file, with pread, not
// a mapping of it, so a truncated file gives an unusable stamp, never a
// fault.
type walStamps struct {
	shm *os.File
}

// shmFiles keeps, for the life of the process, one read-only descriptor of
// each "-shm" file (by device and inode) that a handle has read stamps
// from. They are never closed. SQLite locks "-shm" with POSIX advisory
// locks, which belong to the process, not to a descriptor: closing any
// descriptor of the file would drop every lock that every SQLite
// connection of this process holds on it, and another process could then
// rebuild the index under them (https://sqlite.org/howtocorrupt.html,
// section 2.2). One descriptor per database file the process opens is the
// cost; handles on the same file share it.
var shmFiles struct {
	sync.Mutex
	byID map[shmID]*os.File
}

type shmID struct{ dev, ino uint64 }

func idOf(info os.FileInfo) (shmID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return shmID{}, false
	}
	return shmID{dev: uint64(st.Dev), ino: st.Ino}, true
}

// openWALStamps returns the stamps of path's WAL-index, or nil when they
// cannot be read (the database is then read the usual way). Call it while
// a connection of the handle holds the database open, so the "-shm" file
// it finds is the one in use.
func openWALStamps(path string) *walStamps {
	shmFiles.Lock()
	defer shmFiles.Unlock()
	// The file is identified before it is opened: a descriptor, once open,
	// could not be closed again (shmFiles) if the file had one already.
	info, err := os.Stat(path + "-shm")
	if err != nil {
		return nil
	}
	id, ok := idOf(info)
	if !ok {
		return nil // no inode to share a descriptor by: never open one
	}
	if f := shmFiles.byID[id]; f != nil {
		return &walStamps{shm: f}
	}
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	if shmFiles.byID == nil {
		shmFiles.byID = map[shmID]*os.File{}
	}
	shmFiles.byID[id] = f
	return &walStamps{shm: f}
}

// read returns the current stamp, and false when there is none to trust:
// the two copies differ (a commit is writing them), or the header is not
// initialized, of another version, or fails its checksum.
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
	if !bytes.Equal(first, second) || first[walHeaderIsInit] == 0 || !validWALHeader(first) {
		return stamp, false
	}
	copy(stamp[:], first)
	return stamp, true
}

// validWALHeader checks a header as SQLite's readers do (walIndexTryHdr):
// the version it was written by, and its checksum, which SQLite computes
// over the first 40 bytes in the machine's byte order.
func validWALHeader(h []byte) bool {
	order := binary.NativeEndian
	if order.Uint32(h[0:4]) != walIndexVersion {
		return false
	}
	var s1, s2 uint32
	for i := 0; i < walHeaderSummed; i += 8 {
		s1 += order.Uint32(h[i:]) + s2
		s2 += order.Uint32(h[i+4:]) + s1
	}
	return s1 == order.Uint32(h[walHeaderCksumAt:]) && s2 == order.Uint32(h[walHeaderCksumAt+4:])
}
