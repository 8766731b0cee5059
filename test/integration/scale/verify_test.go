package scale

import (
	"context"
	"net/netip"
	"sort"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// stored is what every IPAMBlock in the API says.
type stored struct {
	blocks    int
	perSubnet map[string]int64 // allocations per SubNet
	problems  []string         // duplicates and disagreements, for the test to report
	pods      int              // distinct pods holding an address
}

// checkBlocks reads every IPAMBlock from the API and checks: blocks do not
// overlap, every address lies in its block, no address and no pod appears
// twice, and each pod holds the address its agent was given (want).
func checkBlocks(t *testing.T, c client.Client, want map[string]netip.Addr) stored {
	t.Helper()
	list := &v1alpha1.IPAMBlockList{}
	if err := c.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	st := stored{blocks: len(list.Items), perSubnet: map[string]int64{}}
	var prefixes []netip.Prefix
	holder := map[netip.Addr]string{}
	podIP := map[string]netip.Addr{}
	for _, b := range list.Items {
		p, err := netip.ParsePrefix(b.Spec.CIDR)
		if err != nil {
			st.problems = append(st.problems, "block "+b.Name+": "+err.Error())
			continue
		}
		prefixes = append(prefixes, p)
		for s, al := range b.Spec.Allocations {
			ip, err := netip.ParseAddr(s)
			if err != nil || !p.Contains(ip) {
				st.problems = append(st.problems, "block "+b.Name+" holds "+s+" outside "+b.Spec.CIDR)
				continue
			}
			if al.Pod == "" { // a node's own address
				continue
			}
			st.perSubnet[b.Spec.Subnet]++
			pod := al.Namespace + "/" + al.Pod
			if prev, dup := holder[ip]; dup {
				st.problems = append(st.problems, "duplicate: "+ip.String()+" held by "+prev+" and "+pod)
			}
			holder[ip] = pod
			if prev, dup := podIP[pod]; dup {
				st.problems = append(st.problems, "pod "+pod+" holds "+prev.String()+" and "+ip.String())
			}
			podIP[pod] = ip
		}
	}
	sort.Slice(prefixes, func(i, j int) bool { return prefixes[i].Addr().Less(prefixes[j].Addr()) })
	for i := 1; i < len(prefixes); i++ {
		if prefixes[i-1].Overlaps(prefixes[i]) {
			st.problems = append(st.problems, "blocks "+prefixes[i-1].String()+" and "+prefixes[i].String()+" overlap")
		}
	}
	for pod, ip := range want {
		if got, ok := podIP[pod]; !ok {
			st.problems = append(st.problems, "pod "+pod+" was given "+ip.String()+", no block records it")
		} else if got != ip {
			st.problems = append(st.problems, "pod "+pod+" was given "+ip.String()+", its block says "+got.String())
		}
	}
	st.pods = len(podIP)
	return st
}
