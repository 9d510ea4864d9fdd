package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/syncbuf"
)

// Lines from many goroutines all arrive, whole, each goroutine's in the
// order it wrote them; after Flush every one is there.
func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	var out syncbuf.Buffer
	l := newLogWriter(&out)
	defer l.Close()
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(l, "writer=%d line=%d\n", w, i)
			}
		}()
	}
	wg.Wait()
	l.Flush()
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, line := range got {
		var w, i int
		if _, err := fmt.Sscanf(line, "writer=%d line=%d", &w, &i); err != nil {
			t.Fatalf("a broken line %q: %v", line, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: line %d after line %d", w, i, next[w]-1)
		}
		next[w]++
	}
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
}

// blockedWriter holds every write until it is let go.
type blockedWriter struct {
	mu      sync.Mutex
	out     bytes.Buffer
	started chan struct{} // a write began (capacity 1)
	release chan struct{}
}

func (b *blockedWriter) Write(p []byte) (int, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

// While the output is stuck, lines queue up to the limit; the lines past
// it wait rather than grow the queue, and once the output moves again
// every line arrives, in order.
func TestLogWriterLosesNothingWhileTheOutputIsStuck(t *testing.T) {
	b := &blockedWriter{started: make(chan struct{}, 1), release: make(chan struct{})}
	l := newLogWriter(b)
	if _, err := fmt.Fprintf(l, "%08d%s\n", 0, strings.Repeat("x", 1015)); err != nil {
		t.Fatal(err)
	}
	<-b.started // the goroutine is stuck writing the first line
	const lines = 2 * maxQueuedLog / 1024
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i := 1; i <= lines; i++ {
			_, _ = fmt.Fprintf(l, "%08d%s\n", i, strings.Repeat("x", 1015))
		}
	}()
	close(b.release)
	<-wrote
	l.Close()
	got := strings.Split(strings.TrimSuffix(b.out.String(), "\n"), "\n")
	for i, line := range got {
		if want := fmt.Sprintf("%08d", i); !strings.HasPrefix(line, want) || len(line) != 1023 {
			t.Fatalf("line %d is %.12q..., want %s", i, line, want)
		}
	}
	if len(got) != lines+1 {
		t.Fatalf("%d lines, want %d", len(got), lines+1)
	}
}

// After Close, lines are written directly, after those queued before.
func TestLogWriterWritesDirectlyAfterClose(t *testing.T) {
	var out syncbuf.Buffer
	l := newLogWriter(&out)
	fmt.Fprintln(l, "queued")
	l.Close()
	fmt.Fprintln(l, "direct")
	if got := out.String(); got != "queued\ndirect\n" {
		t.Fatalf("got %q", got)
	}
}

// chunks records each write it is given, in order, on a channel.
type chunks chan string

func (c chunks) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

// heldTimer is a logWriter's clock that the test runs: each wait asks on
// asked, and ends when the test sends on fire.
type heldTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func newHeldTimer() *heldTimer {
	return &heldTimer{asked: make(chan time.Duration, 1), fire: make(chan time.Time)}
}

func (h *heldTimer) after(d time.Duration) <-chan time.Time {
	h.asked <- d
	return h.fire
}

// Request lines wait for their batch's delay, and then go out in one
// write.
func TestLogWriterGathersRequestLinesUntilTheDelay(t *testing.T) {
	out, timer := make(chunks, 10), newHeldTimer()
	l := newLogWriterAfter(out, timer.after)
	var want strings.Builder
	for i := range 100 {
		line := fmt.Sprintf("request %03d%s\n", i, strings.Repeat("x", 80))
		want.WriteString(line)
		if _, err := l.WriteLater([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if d := <-timer.asked; d != accessLogDelay {
		t.Fatalf("the batch waits %v, want %v", d, accessLogDelay)
	}
	select { // the goroutine waits for the timer: nothing can have been written
	case got := <-out:
		t.Fatalf("written before the delay: %.40q...", got)
	default:
	}
	timer.fire <- time.Time{}
	if got := <-out; got != want.String() {
		t.Fatalf("one write of %d bytes, want all %d", len(got), want.Len())
	}
	l.Close()
	if len(out) != 0 {
		t.Fatalf("%d more writes, want none", len(out))
	}
}

// A batch that reaches accessLogBatch bytes is written without waiting
// for its delay.
func TestLogWriterWritesAFullBatchAtOnce(t *testing.T) {
	out, timer := make(chunks, 10), newHeldTimer() // the timer never fires
	l := newLogWriterAfter(out, timer.after)
	defer l.Close()
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range accessLogBatch / len(line) {
		_, _ = l.WriteLater(line)
	}
	if got := <-out; len(got) != accessLogBatch {
		t.Fatalf("wrote %d bytes, want %d", len(got), accessLogBatch)
	}
}

// A line given to Write goes out at once, after the request lines queued
// before it; Flush writes what waits for a delay.
func TestLogWriterWritesOtherLinesAtOnce(t *testing.T) {
	out, timer := make(chunks, 10), newHeldTimer() // the timer never fires
	l := newLogWriterAfter(out, timer.after)
	defer l.Close()
	_, _ = l.WriteLater([]byte("request\n"))
	<-timer.asked
	_, _ = l.Write([]byte("error\n"))
	if got := <-out; got != "request\nerror\n" {
		t.Fatalf("wrote %q", got)
	}
	_, _ = l.WriteLater([]byte("request 2\n"))
	<-timer.asked
	l.Flush()
	if got := <-out; got != "request 2\n" {
		t.Fatalf("flushed %q", got)
	}
}
