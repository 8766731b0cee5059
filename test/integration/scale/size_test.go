package scale

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// size is one cluster shape.
type size struct {
	name     string
	nodes    int
	pods     int
	subnets  int
	policies int
}

// Pods of a node spread over this many SubNets (namespaces), so that a
// SubNet is used by nodes*subnetsPerNode/subnets nodes.
const subnetsPerNode = 5

var sizes = map[string]size{
	"short": {"short", 100, 5000, 25, 500},
	"full":  {"full", 1000, 50000, 250, 5000},
}

// EnvSize selects the size: "short" (default), "full", or NODES:PODS with
// SubNets and NetworkPolicies scaled like the full size.
const EnvSize = "KUBEFAY_SCALE"

func sizeFromEnv() (size, error) {
	v := os.Getenv(EnvSize)
	if v == "" {
		v = "short"
	}
	if s, ok := sizes[v]; ok {
		return s, nil
	}
	n, p, ok := strings.Cut(v, ":")
	nodes, err1 := strconv.Atoi(n)
	pods, err2 := strconv.Atoi(p)
	if !ok || err1 != nil || err2 != nil || nodes < subnetsPerNode || pods < nodes {
		return size{}, fmt.Errorf("%s=%q: want short, full or NODES:PODS", EnvSize, v)
	}
	full := sizes["full"]
	return size{v, nodes, pods, max(subnetsPerNode, nodes*full.subnets/full.nodes), pods * full.policies / full.pods}, nil
}

func (s size) String() string {
	return fmt.Sprintf("%s: %d nodes, %d pods, %d SubNets, %d NetworkPolicies", s.name, s.nodes, s.pods, s.subnets, s.policies)
}
