package api

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CNI_ARGS keys set by the Kubernetes container runtimes.
const (
	ArgPodNamespace        = "K8S_POD_NAMESPACE"
	ArgPodName             = "K8S_POD_NAME"
	ArgPodUID              = "K8S_POD_UID"
	ArgPodInfraContainerID = "K8S_POD_INFRA_CONTAINER_ID"
)

// ParsePodArgs parses CNI_ARGS ("K1=V1;K2=V2", keys unique) and returns the
// Kubernetes keys. Unknown keys (IgnoreUnknown, K8S_POD_NETNS...) are
// ignored; a pair without "=" or with an empty key is an error.
func ParsePodArgs(args string) (PodArgs, error) {
	var p PodArgs
	if args == "" {
		return p, nil
	}
	for _, pair := range strings.Split(args, ";") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return PodArgs{}, fmt.Errorf("invalid CNI_ARGS pair %q: want KEY=VALUE", pair)
		}
		if !utf8.ValidString(v) { // JSON would silently replace the bad bytes
			return PodArgs{}, fmt.Errorf("invalid CNI_ARGS pair %q: the value is not valid UTF-8", pair)
		}
		switch k {
		case ArgPodNamespace:
			p.Namespace = v
		case ArgPodName:
			p.Name = v
		case ArgPodUID:
			p.UID = v
		case ArgPodInfraContainerID:
			p.InfraContainerID = v
		}
	}
	return p, nil
}
