package sqlite

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// instancesFile is the file whose locks say which handles have the
// database open (alone.go), as Linux's open file description locks
// (fcntl(2), F_OFD_SETLK): unlike POSIX record locks they belong to the
// open file, not the process, so two handles in one process conflict as
// two processes do, closing another descriptor of the file releases
// nothing, and the kernel releases them when the process ends, however it
// ends.
//
// Byte 0 is the open byte: a handle holds a read lock on it while it is
// open, or a write lock while it is alone. Byte 1 is the knock: a handle
// that is opening holds a read lock on it until it has its read lock on
// byte 0, which tells an alone handle to step back to a read lock.
type instancesFile struct{ f *os.File }

const (
	openByte  = 0
	knockByte = 1
)

// openInstancesFile opens (creating, with the permissions of the
// database file db if there is one) the instances file at path. A user
// who may not write it opens it to read: its handle takes part (read
// locks), and is never alone (a write lock needs a file open to write).
// It returns errNoInstanceLocks where the file system takes no such
// locks.
func openInstancesFile(path, db string) (*instancesFile, error) {
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(db); err == nil {
		perm = fi.Mode().Perm()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if errors.Is(err, os.ErrPermission) {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	l := &instancesFile{f: f}
	// A test of the knock, which no handle holds for long: a file system
	// without these locks (an old kernel, some network file systems)
	// fails here rather than halfway through the protocol.
	if _, err := l.held(knockByte); err != nil {
		f.Close()
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.ENOSYS) {
			return nil, errNoInstanceLocks
		}
		return nil, err
	}
	return l, nil
}

// lock sets the lock of one byte (unix.F_RDLCK, F_WRLCK or F_UNLCK)
// without waiting: false if another handle's lock is in the way. Changing
// the type of a lock this file holds is atomic: when it is refused, the
// lock held stays.
func (l *instancesFile) lock(b int64, typ int16) (bool, error) {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: b, Len: 1}
	switch err := unix.FcntlFlock(l.f.Fd(), unix.F_OFD_SETLK, &lk); {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES):
		return false, nil
	default:
		return false, err
	}
}

// held says whether another handle holds a lock on byte b.
func (l *instancesFile) held(b int64) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: b, Len: 1}
	if err := unix.FcntlFlock(l.f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

func (l *instancesFile) knock() (bool, error)   { return l.lock(knockByte, unix.F_RDLCK) }
func (l *instancesFile) unknock() error         { _, err := l.lock(knockByte, unix.F_UNLCK); return err }
func (l *instancesFile) share() (bool, error)   { return l.lock(openByte, unix.F_RDLCK) }
func (l *instancesFile) isolate() (bool, error) { return l.lock(openByte, unix.F_WRLCK) }
func (l *instancesFile) knocked() (bool, error) { return l.held(knockByte) }

// Close releases the file's locks.
func (l *instancesFile) Close() error { return l.f.Close() }
