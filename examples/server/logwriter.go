package main

import (
	"io"
	"sync"
	"time"
)

// maxQueuedLog is how many bytes of log lines may wait for the writer
// goroutine; a line that would pass it waits until the queue is written.
const maxQueuedLog = 1 << 20

// Request lines wait to be written until accessLogBatch bytes are queued
// or accessLogDelay has passed since the first of them, whichever comes
// first. Every request logs a line, and the write system calls cost a
// get about 1 µs of CPU when they carried the few lines that queued while
// the last write ran (about eight under load); at these bounds a write
// carries a few hundred under load, and an idle server's line is written
// within the delay.
const (
	accessLogBatch = 32 << 10
	accessLogDelay = 50 * time.Millisecond
)

// logWriter hands the server's log lines to one goroutine that writes them
// to w. A line given to Write (the server's records: its start, warnings,
// errors) is written at once, with every line queued before it. A line
// given to WriteLater (a request line) is written with the next batch:
// once accessLogBatch bytes are queued, accessLogDelay after the first
// line of the batch, or with the next line given to Write, whichever
// comes first. Lines keep their order. Flush waits until what is queued
// is written; Close flushes and stops the goroutine, and later lines are
// written directly. What a crash that skips Close (SIGKILL, a fatal
// runtime error) can lose is the request lines of the last accessLogDelay;
// a line given to Write is lost only if the crash comes before the
// goroutine's write, as it would be in the kernel's buffers anyway.
type logWriter struct {
	w     io.Writer
	after func(time.Duration) <-chan time.Time // time.After; tests hold it

	mu       sync.Mutex
	queued   []byte     // lines not yet handed to the goroutine
	spare    []byte     // the goroutine's last buffer, for reuse
	writing  bool       // the goroutine is writing a batch
	closed   bool       // Close was called: lines go to w directly
	progress *sync.Cond // signalled after each batch is written
	batch    chan struct{}
	now      chan struct{}
	stop     chan struct{}
	exited   chan struct{}
}

func newLogWriter(w io.Writer) *logWriter { return newLogWriterAfter(w, time.After) }

// newLogWriterAfter is newLogWriter whose batches wait on after.
func newLogWriterAfter(w io.Writer, after func(time.Duration) <-chan time.Time) *logWriter {
	l := &logWriter{w: w, after: after,
		batch: make(chan struct{}, 1), now: make(chan struct{}, 1),
		stop: make(chan struct{}), exited: make(chan struct{})}
	l.progress = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write queues p (a copy) and has it written at once, with what is
// queued before it; it waits only while the queue is full. After Close it
// writes p directly.
func (l *logWriter) Write(p []byte) (int, error) { return l.write(p, true) }

// WriteLater queues p (a copy) for the next batch; it waits only while
// the queue is full. After Close it writes p directly.
func (l *logWriter) WriteLater(p []byte) (int, error) { return l.write(p, false) }

func (l *logWriter) write(p []byte, now bool) (int, error) {
	l.mu.Lock()
	for {
		if l.closed && len(l.queued) == 0 && !l.writing {
			defer l.mu.Unlock() // keeps the order of lines written directly
			return l.w.Write(p)
		}
		if !l.closed && (len(l.queued) == 0 || len(l.queued)+len(p) <= maxQueuedLog) {
			break
		}
		l.progress.Wait() // for the queued lines to be written first
	}
	first := len(l.queued) == 0
	l.queued = append(l.queued, p...)
	switch { // under mu: signals and the queue move together
	case now || len(l.queued) >= accessLogBatch:
		poke(l.now)
	case first:
		poke(l.batch)
	}
	l.mu.Unlock()
	return len(p), nil
}

// poke leaves a token in c (capacity 1) unless one waits there.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (l *logWriter) run() {
	defer close(l.exited)
	for {
		select {
		case <-l.batch: // a batch began: gather until its delay ends
			select {
			case <-l.after(accessLogDelay):
			case <-l.now:
			case <-l.stop:
			}
		case <-l.now:
		case <-l.stop:
		}
		// A token left from a batch written already costs at most an
		// early or an empty round.
		l.mu.Lock()
		for len(l.queued) > 0 {
			batch := l.queued
			l.queued, l.spare = l.spare[:0], nil
			l.writing = true
			l.mu.Unlock()
			_, _ = l.w.Write(batch) // a log has nowhere to report its own failure
			l.mu.Lock()
			l.spare, l.writing = batch, false
			l.progress.Broadcast()
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return
		}
	}
}

// Flush returns once every line written before it has been written to w.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queued) > 0 {
		poke(l.now)
	}
	for len(l.queued) > 0 || l.writing {
		l.progress.Wait()
	}
}

// Close writes what is queued and stops the goroutine; later lines are
// written directly.
func (l *logWriter) Close() {
	l.Flush()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.stop)
	l.progress.Broadcast()
	l.mu.Unlock()
	<-l.exited
}
