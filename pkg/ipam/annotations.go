package ipam

import (
	"net/netip"
	"strings"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// Pod annotations the agent turns into a Request.
const (
	// AnnotationSubnet names the SubNet a pod draws from.
	AnnotationSubnet = v1alpha1.GroupName + "/subnet"
	// AnnotationIPAddress asks for a static address.
	AnnotationIPAddress = v1alpha1.GroupName + "/ip-address"
)

// FromAnnotations reads the subnet and static address a pod asks for in its
// annotations; both are empty/invalid when not asked for. A malformed
// address is a ReasonInvalidRequest error naming the annotation.
func FromAnnotations(ann map[string]string) (subnet string, static netip.Addr, err error) {
	subnet = strings.TrimSpace(ann[AnnotationSubnet])
	if s := strings.TrimSpace(ann[AnnotationIPAddress]); s != "" {
		static, err = netip.ParseAddr(s)
		if err != nil || !static.Is4() {
			return "", netip.Addr{}, newError(ReasonInvalidRequest, subnet, "annotation %s: %q is not an IPv4 address", AnnotationIPAddress, s)
		}
	}
	return subnet, static, nil
}
