package sqlite

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A handle alone on its file answers gets without reading the stamp.
//
// A get checks the incident stamp (stamp.go) only to see other processes'
// changes: this process's own are in the stamp log before any caller of
// theirs is answered. When no other handle has the file open, there are
// none to see, and the check's read (a read transaction, a statement and
// the rounds that share it: about 3 µs of a get's 21–24 µs of server CPU
// on a quiet 2-core machine, bench/README.md) buys nothing. A SQLite file served by one process, the usual
// way, is that case.
//
// Handles say who has the file open with locks on a file beside it
// (path + "-instances", instancesFile): each holds a read lock on its
// open byte while open; a handle that finds no other lock there takes a
// write lock instead, reads the stamp once (so every change made before
// is applied to what it keeps), and from then on is alone: a get brings
// the kept incidents up to this process's last recorded commit, in
// memory, and answers (decodedIncidents.freshAlone). A handle that is
// opening knocks (a read lock on the knock byte) and waits for its read
// lock on the open byte before it opens the database, migrations
// included; the alone handle looks for a knock every alonePoll, stops
// answering alone, and steps back to a read lock, which lets the
// newcomer in. So no other handle writes while one answers alone, and a
// get that began after another handle's write was acknowledged finds its
// handle not alone and checks the stamp. A process that ends, however it
// ends, loses its locks with it.
//
// A writer that does not take part (a release before this one, a sqlite3
// shell) is not seen by the locks. An alone handle keeps reading the
// stamp every alonePoll, and once it finds a number that no commit of
// its own holds, it never answers alone again; until then its gets may
// miss such a writer's changes of the last alonePoll. Where the file
// system has no open file description locks (anything but Linux; some
// network file systems) no handle is ever alone: every get checks.

// alonePoll is how often a handle that is alone looks for a knock (and
// reads the stamp), and a handle that is not tries to be alone: the most
// an opening handle waits for one that is alone.
const alonePoll = 50 * time.Millisecond

// joinPoll is how often an opening handle retries its read lock while an
// alone handle holds the open byte.
const joinPoll = 2 * time.Millisecond

// errNoInstanceLocks: the file system takes no open file description
// locks (instancesFile).
var errNoInstanceLocks = errors.New("sqlite: no open file description locks here")

// presence is a handle's place among the handles open on its file.
type presence struct {
	file *instancesFile // nil: never alone

	alone   atomic.Bool // gets may answer without reading the stamp
	foreign atomic.Bool // a writer that takes no part was seen: never alone again

	// check reads the stamp from the file and applies it to the kept
	// incidents; foreign reports numbers that no commit of this process
	// holds (stampChecks.checkFile).
	check func() (foreign bool, err error)

	mu       sync.Mutex // one poll at a time; Close
	isolated bool       // the handle holds the write lock on the open byte
	closed   bool
	stop     chan struct{}
	done     chan struct{}
}

// joinInstances takes the handle's place among those open on path,
// waiting at most wait for an alone handle to make room.
func joinInstances(path string, wait time.Duration) (*presence, error) {
	file, err := openInstancesFile(path+"-instances", path)
	if errors.Is(err, errNoInstanceLocks) {
		return &presence{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s-instances: %w", path, err)
	}
	if err := join(file, wait); err != nil {
		file.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &presence{file: file}, nil
}

// join knocks and waits for the read lock on the open byte.
func join(file *instancesFile, wait time.Duration) error {
	if _, err := file.knock(); err != nil {
		return err
	}
	defer file.unknock()
	deadline := time.Now().Add(wait)
	for {
		ok, err := file.share()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another handle has the file to itself and made no room within %s", wait)
		}
		time.Sleep(joinPoll)
	}
}

// start has the handle poll every period (negative: only when told,
// tests) once the stamp can be checked.
func (p *presence) start(check func() (bool, error), every time.Duration) {
	p.check = check
	if p.file == nil || every < 0 {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	p.stop, p.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.poll()
			}
		}
	}()
}

// isAlone says whether a get may answer without reading the stamp.
func (p *presence) isAlone() bool { return p.alone.Load() }

// sawForeign stops the handle answering alone for good: a get found a
// number that no commit of this process holds.
func (p *presence) sawForeign() {
	p.foreign.Store(true)
	p.alone.Store(false)
}

// poll makes one step: an alone handle steps back for a knock or a
// foreign writer; one that is not tries to be alone.
func (p *presence) poll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.file == nil {
		return
	}
	if p.alone.Load() {
		if knocked, err := p.file.knocked(); err != nil || knocked {
			p.stepBack()
			return
		}
		if foreign, err := p.check(); err != nil || foreign {
			if foreign {
				p.foreign.Store(true)
			}
			p.stepBack()
		}
		return
	}
	if p.foreign.Load() {
		p.stepBack() // a get saw it while the handle was alone
		return
	}
	if ok, err := p.file.isolate(); err != nil || !ok {
		return
	}
	p.isolated = true
	if knocked, err := p.file.knocked(); err != nil || knocked {
		p.stepBack()
		return
	}
	// Every other handle has closed: their writes are committed, or
	// never will be. One read of the stamp applies them.
	if _, err := p.check(); err != nil {
		p.stepBack()
		return
	}
	p.alone.Store(true)
}

// stepBack stops answering alone, then holds a read lock on the open
// byte (again) instead of the write lock. p.mu is held.
func (p *presence) stepBack() {
	p.alone.Store(false)
	if !p.isolated {
		return
	}
	// Turning a write lock this file holds into a read lock cannot be
	// refused. Should it fail all the same, the write lock stays (the
	// next poll tries again): an opening handle then waits, and none
	// writes behind a get.
	if ok, err := p.file.share(); err == nil && ok {
		p.isolated = false
	}
}

// Close stops answering alone and stops polling; the locks go with
// release, after the handle's connections are closed.
func (p *presence) Close() {
	p.mu.Lock()
	stop := p.stop
	p.closed, p.stop = true, nil
	p.alone.Store(false)
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-p.done
	}
}

// release lets other handles open and be alone: this one has closed (or
// never opened).
func (p *presence) release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	file := p.file
	p.file = nil
	if file == nil {
		return nil
	}
	return file.Close()
}
