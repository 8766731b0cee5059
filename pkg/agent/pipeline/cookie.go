package pipeline

import "hash/fnv"

// Cookies say which feature and which object installed a flow:
//
//	bits 63..56  0x4b ("K"): a kubefay flow
//	bits 55..48  feature (below)
//	bits 47..0   object id (pod ofport, hash of a subnet or block)
//
// `ovs-ofctl dump-flows br-int cookie=0x4b02000000000000/0xffff000000000000`
// lists every pod flow, for instance.
const (
	CookieMagic     uint64 = 0x4b << 56
	CookieMagicMask uint64 = 0xff << 56
	CookieFeatMask  uint64 = 0xffff << 48
)

// Feature is the part of the pipeline a flow belongs to.
type Feature uint8

// Features of the pipeline.
const (
	FeatureBase Feature = iota + 1
	FeaturePod
	FeatureSubnet
	FeatureTunnel
	FeatureNetworkPolicy
)

// Cookie returns the cookie of a flow of feature f for object id.
func Cookie(f Feature, id uint64) uint64 {
	return CookieMagic | uint64(f)<<48 | id&(1<<48-1)
}

// FeatureOf returns the feature of a kubefay cookie.
func FeatureOf(cookie uint64) Feature { return Feature(cookie >> 48) }

// SubnetCookie is the cookie of the flows of the SubNet named name.
func SubnetCookie(name string) uint64 { return Cookie(FeatureSubnet, hashID(name)) }

// TunnelBlockCookie is the cookie of the flow that routes the remote block
// cidr into the tunnel.
func TunnelBlockCookie(cidr string) uint64 { return Cookie(FeatureTunnel, hashID(cidr)) }

// TunnelSourceCookie is the cookie of the flow that admits tunnel packets
// from the node whose underlay address is nodeIP.
func TunnelSourceCookie(nodeIP string) uint64 { return Cookie(FeatureTunnel, hashID("node/"+nodeIP)) }

func hashID(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
