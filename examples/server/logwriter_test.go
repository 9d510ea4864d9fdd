package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

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
