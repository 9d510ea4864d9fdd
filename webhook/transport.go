package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// guardedTransport returns a transport that refuses, at connect time (after
// DNS, so a name that resolves to 10.0.0.1 is caught too), any address
// that is not public, unless allowPrivate. It ignores proxy settings from
// the environment, which could route around the check.
func guardedTransport(allowPrivate bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = guardConnect
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
}

// guardConnect refuses to connect to an address that is not public. It runs
// for every connection, after DNS, with the address actually dialled.
func guardConnect(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing unparsable address %q", address)
	}
	if reason := forbiddenAddr(ap.Addr()); reason != "" {
		return fmt.Errorf("webhook: refusing %s address %s", reason, ap.Addr())
	}
	return nil
}
