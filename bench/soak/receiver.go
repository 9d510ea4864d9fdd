package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// receiver is the healthy webhook endpoint: it answers every delivery with
// 204 at once and records, per event, the arrival time minus the event's
// created_at into the current window. A redelivered event counts as a
// duplicate. It does not verify signatures: it measures, it does not trust.
type receiver struct {
	ln   net.Listener
	srv  *http.Server
	rec  func(latency time.Duration, duplicate bool)
	mu   sync.Mutex
	seen map[string]bool
}

func startReceiver(rec func(latency time.Duration, duplicate bool)) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{ln: ln, rec: rec, seen: map[string]bool{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed at close
	return r, nil
}

func (r *receiver) url() string { return "http://" + r.ln.Addr().String() + "/hooks/sety" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var ev struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	dup := r.seen[ev.ID]
	r.seen[ev.ID] = true
	r.mu.Unlock()
	r.rec(arrived.Sub(ev.CreatedAt), dup)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// hanging is an endpoint that never answers: it accepts connections and
// holds them without reading, so every delivery to it waits for Sety's
// per-attempt timeout. It reproduces a slow customer endpoint.
type hanging struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func startHanging() (*hanging, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hanging{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	return h, nil
}

func (h *hanging) url() string { return "http://" + h.ln.Addr().String() + "/hooks/slow" }

// accepted is how many connections the endpoint holds.
func (h *hanging) accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *hanging) close() {
	h.ln.Close()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}
