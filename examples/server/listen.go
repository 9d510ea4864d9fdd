package main

import (
	"fmt"
	"net"
)

// listeners are the server's bound addresses: the API's, and those of the
// metrics and profiles when they have their own.
type listeners struct {
	api      net.Listener
	metrics  net.Listener // nil: /metrics is on the API's listener
	profiles net.Listener // nil: no profiles
}

// bindListeners binds every address cfg names. The server does it before
// it touches storage, so one that cannot serve (the port is taken) creates,
// migrates and bootstraps no database. An error names the setting to
// change.
func bindListeners(cfg config) (*listeners, error) {
	l := &listeners{}
	for _, b := range []struct {
		into *net.Listener
		addr string
		flag string
	}{{&l.api, cfg.addr, "addr"}, {&l.metrics, cfg.metricsAddr, "metrics-addr"}, {&l.profiles, cfg.pprofAddr, "pprof-addr"}} {
		if b.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("cannot listen on %s (-%s, %s): %w", b.addr, b.flag, envName(b.flag), err)
		}
		*b.into = ln
	}
	return l, nil
}

// close closes every listener bound; those a server has served are closed
// already, which is harmless.
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.api, l.metrics, l.profiles} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}
