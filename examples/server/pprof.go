package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// profiles is Go's pprof handlers, served apart from the API (so the API's
// timeouts do not cut a 30-second CPU profile, and the profiles are never
// reachable where the API is).
func profiles() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveAside serves h on ln, a listener of its own beside the API's (the
// profiles, the metrics), and logs what it serves as what. It returns a
// function that stops serving.
func serveAside(ln net.Listener, h http.Handler, log *slog.Logger, what, path string) func() {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving "+what, "error", err)
		}
	}()
	log.Info("serving "+what, "addr", ln.Addr().String(), "path", path)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}
