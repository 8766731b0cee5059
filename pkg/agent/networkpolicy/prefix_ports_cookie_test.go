package networkpolicy

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

func TestSubtractPrefixes(t *testing.T) {
	cases := []struct {
		cidr   string
		except []string
		want   string
	}{
		{"10.0.0.0/8", nil, "[10.0.0.0/8]"},
		{"10.1.2.3/16", nil, "[10.1.0.0/16]"},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, "[]"},
		{"10.0.0.0/24", []string{"10.0.0.0/16"}, "[]"},
		{"10.0.0.0/24", []string{"192.168.0.0/16", "2001:db8::/32"}, "[10.0.0.0/24]"},
		{"10.0.0.0/30", []string{"10.0.0.1/32"}, "[10.0.0.0/32 10.0.0.2/31]"},
		{"0.0.0.0/0", []string{"128.0.0.0/1"}, "[0.0.0.0/1]"},
		{"10.0.0.0/24", []string{"10.0.0.0/26", "10.0.0.192/26"}, "[10.0.0.64/26 10.0.0.128/26]"},
	}
	for _, c := range cases {
		var ex []netip.Prefix
		for _, e := range c.except {
			ex = append(ex, netip.MustParsePrefix(e))
		}
		if got := fmt.Sprint(subtractPrefixes(netip.MustParsePrefix(c.cidr), ex)); got != c.want {
			t.Errorf("%s - %v = %s, want %s", c.cidr, c.except, got, c.want)
		}
	}
}

func TestPortRange(t *testing.T) {
	cases := []struct {
		lo, hi uint16
		want   string
	}{
		{80, 80, "[[80 65535]]"},
		{0, 65535, "[[0 0]]"},
		{1, 65535, "[[1 65535] [2 65534] [4 65532] [8 65528] [16 65520] [32 65504] [64 65472] [128 65408] [256 65280] [512 65024] [1024 64512] [2048 63488] [4096 61440] [8192 57344] [16384 49152] [32768 32768]]"},
		{8000, 8010, "[[8000 65528] [8008 65534] [8010 65535]]"},
		{65534, 65535, "[[65534 65534]]"},
	}
	for _, c := range cases {
		got := portRange(c.lo, c.hi)
		if s := fmt.Sprint(got); s != c.want {
			t.Errorf("portRange(%d,%d) = %s, want %s", c.lo, c.hi, s, c.want)
		}
		// every port of the range is covered exactly once, nothing else
		for p := 0; p < 1<<16; p++ {
			n := 0
			for _, r := range got {
				if uint16(p)&r[1] == r[0] {
					n++
				}
			}
			in := p >= int(c.lo) && p <= int(c.hi)
			if in && n != 1 || !in && n != 0 {
				t.Fatalf("portRange(%d,%d): port %d covered %d times", c.lo, c.hi, p, n)
			}
		}
	}
}

func TestCookies(t *testing.T) {
	e := world()
	e.SetPolicy(mkPolicy("prod", "p", dbSpec()))
	for _, fs := range e.All() {
		for _, f := range fs {
			if pipeline.FeatureOf(f.Cookie) != pipeline.FeatureNetworkPolicy {
				t.Errorf("%s: not a NetworkPolicy cookie", f)
			}
			k, low := SplitCookie(f.Cookie)
			s := f.String()
			switch {
			case f.Priority == pipeline.PolicyDefaultDenyPriority && f.Table == pipeline.IngressRules.ID:
				if k != KindDenyIngress || low != 0x0a000003 {
					t.Errorf("%s: kind %d low %#x", s, k, low)
				}
			case f.Priority == pipeline.PolicyDefaultDenyPriority:
				if k != KindDenyEgress || low != 0x0a000003 {
					t.Errorf("%s: kind %d low %#x", s, k, low)
				}
			case len(f.Actions) > 0 && f.ActionsString()[:4] == "conj":
				if k != KindConjunctionPart {
					t.Errorf("%s: kind %d", s, k)
				}
			default:
				if k != KindRuleAllow || low != 1 {
					t.Errorf("%s: kind %d low %d", s, k, low)
				}
			}
		}
	}
	want := []RuleInfo{
		{Cookie: CookieFor(KindRuleAllow, 1), ConjID: 1, Direction: Ingress, Namespace: "prod", Policy: "p"},
		{Cookie: CookieFor(KindDenyIngress, 0x0a000003), Direction: Ingress, Pod: "prod/db"},
		{Cookie: CookieFor(KindDenyEgress, 0x0a000003), Direction: Egress, Pod: "prod/db"},
	}
	if got := e.Rules(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Rules() = %+v\nwant %+v", got, want)
	}
	if c := CookieFor(KindDenyEgress, 0x0a000003); c != 0x4b0500030a000003 {
		t.Errorf("cookie layout changed: %#x", c)
	}
}
