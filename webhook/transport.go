package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// forbiddenAddr names the kind of a non-public address, or "" for a public one.
func forbiddenAddr(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local" // includes 169.254.169.254, the cloud metadata service
	case a.IsUnspecified(), a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "non-unicast"
	case cgnat.Contains(a), thisNetwork.Contains(a), metadataV6.Contains(a):
		return "reserved"
	}
	return ""
}

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")     // carrier-grade NAT, internal to providers
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")         // "this network"
	metadataV6  = netip.MustParsePrefix("fd00:ec2::254/128") // AWS metadata over IPv6
)

// forbiddenHost checks a URL host that is a literal address, or localhost.
func forbiddenHost(host string) string {
	if host == "localhost" || len(host) > len(".localhost") && host[len(host)-len(".localhost"):] == ".localhost" {
		return "loopback"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return forbiddenAddr(a)
	}
	return ""
}

// guardedTransport returns a transport that refuses, at connect time (after
// DNS, so a name that resolves to 10.0.0.1 is caught too), any address
// that is not public, unless allowPrivate. It ignores proxy settings from
// the environment, which could route around the check.
func guardedTransport(allowPrivate bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: refusing unparsable address %q", address)
			}
			if reason := forbiddenAddr(ap.Addr()); reason != "" {
				return fmt.Errorf("webhook: refusing %s address %s", reason, ap.Addr())
			}
			return nil
		}
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
