package networkpolicy

import (
	"net/netip"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// CookieKind is bits 47..32 of the object id of a NetworkPolicy cookie.
type CookieKind uint16

// Kinds of NetworkPolicy flows (see the package documentation).
const (
	KindRuleAllow       CookieKind = 1
	KindDenyIngress     CookieKind = 2
	KindDenyEgress      CookieKind = 3
	KindConjunctionPart CookieKind = 4
)

// CookieFor returns the cookie of a NetworkPolicy flow of kind k with low
// 32 bits low (a conjunction id or an IPv4 address).
func CookieFor(k CookieKind, low uint32) uint64 {
	return pipeline.Cookie(pipeline.FeatureNetworkPolicy, uint64(k)<<32|uint64(low))
}

// SplitCookie returns the kind and low 32 bits of a NetworkPolicy cookie.
func SplitCookie(c uint64) (CookieKind, uint32) {
	return CookieKind(c >> 32 & 0xffff), uint32(c)
}

func ip4Uint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
