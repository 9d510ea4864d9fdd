package main

import (
	"io"
	"runtime"
	"sync"
)

// maxQueuedLog is how many bytes of log lines may wait for the writer
// goroutine; a line that would pass it waits until the queue is written.
const maxQueuedLog = 1 << 20

// logWriter hands the server's log lines to one goroutine that writes them
// to w: everything queued while it wrote the last lines goes in one write.
// Every request logs a line, and its write system call was a twentieth of
// a get's CPU; under load one call now carries many lines, and when the
// server is idle a line is written at once (nothing waits for a timer).
// Lines keep their order. Flush waits until what is queued is written;
// Close flushes and stops the goroutine, and later lines are written
// directly. A line logged just before the process is killed (SIGKILL) may
// be lost, as one in the kernel's buffers may be anyway.
type logWriter struct {
	w io.Writer

	mu       sync.Mutex
	queued   []byte     // lines not yet handed to the goroutine
	spare    []byte     // the goroutine's last buffer, for reuse
	writing  bool       // the goroutine is writing a batch
	closed   bool       // Close was called: lines go to w directly
	progress *sync.Cond // signalled after each batch is written
	wake     chan struct{}
	exited   chan struct{}
}

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{w: w, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	l.progress = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write queues p (a copy) and returns; it waits only while the queue is
// full. After Close it writes p directly.
func (l *logWriter) Write(p []byte) (int, error) {
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
	l.queued = append(l.queued, p...)
	select { // under mu: Close closes wake under it
	case l.wake <- struct{}{}:
	default:
	}
	l.mu.Unlock()
	return len(p), nil
}

func (l *logWriter) run() {
	defer close(l.exited)
	for range l.wake {
		// Let the goroutines that are ready to run (under load, requests
		// about to log) go first, so that one write carries their lines
		// too; on an idle server this returns at once.
		runtime.Gosched()
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
	close(l.wake)
	l.progress.Broadcast()
	l.mu.Unlock()
	<-l.exited
}
