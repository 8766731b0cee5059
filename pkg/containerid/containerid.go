// Package containerid formats container IDs for people (logs, events, the CLI).
package containerid

import "strings"

// Short abbreviates a container ID the way docker and crictl do (its first
// 12 hex digits); any other ID (e.g. the IPAM holder "node-<name>") is
// returned whole, only trimmed.
func Short(id string) string {
	id = strings.TrimSpace(id)
	if len(id) <= 12 {
		return id
	}
	for _, c := range id {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return id
		}
	}
	return id[:12]
}
