package webhook

import (
	"net/netip"
	"strconv"
	"strings"
)

// Webhook targets must be ordinary public unicast addresses. Every range of
// the IANA special-purpose registries (IPv4 and IPv6) is refused, whether or
// not IANA marks it globally reachable: none of them is where a webhook
// receiver lives, and several reach back into the network Sety runs in (the
// cloud metadata service at 169.254.169.254 is reachable as itself, and
// through NAT64, 6to4, Teredo or an IPv4-compatible IPv6 address).

type specialRange struct {
	prefix netip.Prefix
	name   string
}

func ranges(pairs ...string) []specialRange {
	out := make([]specialRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, specialRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// specialV4 is the IPv4 Special-Purpose Address Registry (RFC 6890 and its
// updates), with multicast, the reserved class E and broadcast.
var specialV4 = ranges(
	"0.0.0.0/8", "this-network",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "shared (carrier-grade NAT)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation",
	"192.31.196.0/24", "AS112",
	"192.52.193.0/24", "AMT",
	"192.88.99.0/24", "6to4 relay anycast",
	"192.168.0.0/16", "private",
	"192.175.48.0/24", "AS112",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"255.255.255.255/32", "broadcast", // before 240.0.0.0/4, which holds it
	"240.0.0.0/4", "reserved",
)

// globalUnicastV6 is the only IPv6 space assigned for global unicast: every
// address outside it (loopback, unspecified, IPv4-mapped, IPv4-compatible,
// IPv4-translated, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard-only,
// unique-local, link-local, site-local, multicast) is refused.
var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// specialV6 are the special-purpose ranges inside global unicast.
var specialV6 = ranges(
	"2001::/23", "IETF protocol assignment (Teredo, benchmarking, ORCHID)",
	"2001:db8::/32", "documentation",
	"2002::/16", "6to4",
	"2620:4f:8000::/48", "AS112",
	"3fff::/20", "documentation",
)

// forbiddenAddr names the kind of a non-public address, or "" for a public one.
func forbiddenAddr(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is4() {
		for _, r := range specialV4 {
			if r.prefix.Contains(a) {
				return r.name
			}
		}
		return ""
	}
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.Is4In6():
		return "IPv4-mapped"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate():
		return "unique-local"
	case a.IsMulticast():
		return "multicast"
	case !globalUnicastV6.Contains(a):
		return "special-purpose IPv6"
	}
	for _, r := range specialV6 {
		if r.prefix.Contains(a) {
			return r.name
		}
	}
	return ""
}

// forbiddenHost checks a URL host that is a literal address (in any form a
// resolver would accept), or a loopback name. canonical is the host as it
// should be stored: numeric IPv4 forms such as 2130706433, 0x7f000001 or
// 127.1 become their dotted quad, so what is checked is what is dialled.
func forbiddenHost(host string) (canonical, reason string) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return host, "loopback"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return host, "zoned"
		}
		return a.String(), forbiddenAddr(a)
	}
	if a, ok := parseNumericIPv4(host); ok {
		return a.String(), forbiddenAddr(a)
	}
	return host, ""
}

// parseNumericIPv4 reads the IPv4 forms inet_aton accepts: one to four
// parts, each decimal, octal (leading 0) or hexadecimal (0x); the last part
// fills the remaining bytes. A name with a part that is not a number (or a
// last label that is not one, so "1.2.example") is a name, not an address.
func parseNumericIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := parseInetPart(p)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseInetPart(p string) (uint64, error) {
	base := 10
	switch {
	case strings.HasPrefix(p, "0x"):
		p, base = p[2:], 16
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	if p == "" && base == 16 {
		return 0, strconv.ErrSyntax
	}
	if p == "" {
		return 0, nil
	}
	return strconv.ParseUint(p, base, 32)
}
