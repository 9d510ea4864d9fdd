package httpapi

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// readBody reads what io.ReadAll(io.LimitReader(r, limit)) reads, errors
// included, whatever the reader's pieces and whatever b holds already.
func TestReadBodyIsReadAllOfALimitReader(t *testing.T) {
	const limit = 2000
	boom := errors.New("boom")
	for _, size := range []int{0, 1, 1023, 1024, 1025, limit - 1, limit, limit + 1, 3 * limit} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		readers := map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(data) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
			"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
			"failing":  func() io.Reader { return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)) },
		}
		for name, r := range readers {
			want, wantErr := io.ReadAll(io.LimitReader(r(), limit))
			for _, b := range [][]byte{nil, make([]byte, 0, 7), make([]byte, 0, 4096)} {
				got, err := readBody(b, r(), limit)
				if !bytes.Equal(got, want) || err != wantErr {
					t.Fatalf("%d bytes, %s reader, cap %d: %d bytes, %v; want %d bytes, %v", size, name, cap(b), len(got), err, len(want), wantErr)
				}
			}
		}
	}
}
