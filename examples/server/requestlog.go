package main

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
)

// requestLines writes the request log's lines in slog's text format
// without a slog.Record: the line slog.TextHandler (default options) writes
// for logRequests' record, byte for byte (TestRequestLineIsSlogs), made
// by appending to a pooled buffer. slog's way cost a get about 2 µs of
// CPU (the record's attributes outgrow its inline room, each value is
// boxed and inspected by kind, every string scanned rune by rune for
// quoting). A line whose strings would need quoting (a space, '=', '"',
// anything but printable ASCII) is left to slog.
//
// It is also the text handler's writer, so its lines and the handler's
// are written one at a time, in order: the handler's to w, the request
// lines to later (which may hold them for a batch, logWriter.WriteLater).
type requestLines struct {
	mu    sync.Mutex
	w     io.Writer
	later io.Writer
}

func newRequestLines(w, later io.Writer) *requestLines { return &requestLines{w: w, later: later} }

// Write writes one of the text handler's records.
func (l *requestLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// maxPooledLine is the largest buffer kept for the next line.
const maxPooledLine = 4 << 10

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// write writes the request line of these values, or reports false (and
// writes nothing) when one of the strings needs quoting.
func (l *requestLines) write(at time.Time, level slog.Level, method, path string, status, bytes int, took time.Duration, id string) bool {
	if !plainValue(method) || !plainValue(path) || !plainValue(id) {
		return false
	}
	bp := lineBuffers.Get().(*[]byte)
	b := append((*bp)[:0], "time="...)
	if _, offset := at.Zone(); offset == 0 {
		b = clock.AppendLayout(b, at) // the same text, digit by digit
	} else {
		b = at.Round(0).Truncate(time.Millisecond).AppendFormat(b, clock.Layout)
	}
	b = append(b, " level="...)
	b = append(b, level.String()...)
	b = append(b, " msg=request method="...)
	b = append(b, method...)
	b = append(b, " path="...)
	b = append(b, path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(bytes), 10)
	b = append(b, " duration="...)
	b = append(b, took.String()...)
	b = append(b, " request_id="...)
	b = append(b, id...)
	b = append(b, '\n')
	l.mu.Lock()
	_, _ = l.later.Write(b) // a log has nowhere to report its own failure
	l.mu.Unlock()
	if cap(b) <= maxPooledLine { // a huge path's buffer is not kept
		*bp = b
		lineBuffers.Put(bp)
	}
	return true
}

// plainValue says whether slog's text format writes s as it is: not
// empty, printable ASCII, no space, '=' or '"' (slog quotes those).
func plainValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '=' || c == '"' {
			return false
		}
	}
	return true
}
