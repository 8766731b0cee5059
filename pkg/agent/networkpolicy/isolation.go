package networkpolicy

import (
	"sort"

	"k8s.io/apimachinery/pkg/labels"
)

// IsolatingPolicies returns namespace/name of the policies that isolate the
// pod podKey (namespace/name) in direction dir, sorted: those whose
// isolation drop ends a packet no rule allowed.
func (e *Engine) IsolatingPolicies(podKey string, dir Direction) []string {
	p := e.pods[podKey]
	if p == nil {
		return nil
	}
	l := labels.Set(p.Labels)
	var out []string
	for _, pol := range e.policiesByNS[p.Namespace] {
		iso := pol.isolatesIn
		if dir == Egress {
			iso = pol.isolatesOut
		}
		if iso && pol.podSel.Matches(l) {
			out = append(out, pol.namespace+"/"+pol.name)
		}
	}
	sort.Strings(out)
	return out
}
