package cli

import (
	"testing"
)

func TestIP(t *testing.T) {
	tests := []struct {
		name    string
		ip      string
		want    string
		wantErr string
	}{{
		name: "pod",
		ip:   "10.192.0.3",
		want: dedent(`
IP:          10.192.0.3
Status:      in use
Subnet:      defaultnet (10.192.0.0/16)
Block:       defaultnet.10-192-0-0-26 (10.192.0.0/26, node node-a)
Node:        node-a
Namespace:   default
Pod:         web-1
Pod UID:     uid-web-1
Container:   0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
Interface:   eth0
Static:      no
Age:         5m
`),
	}, {
		name: "node gateway address",
		ip:   "10.192.0.2",
		want: dedent(`
IP:          10.192.0.2
Status:      in use
Subnet:      defaultnet (10.192.0.0/16)
Block:       defaultnet.10-192-0-0-26 (10.192.0.0/26, node node-a)
Node:        node-a
Namespace:   -
Pod:         (node node-a gw0)
Pod UID:     -
Container:   node-node-a
Interface:   gw0
Static:      no
Age:         2d
`),
	}, {
		name: "static address in another node's block",
		ip:   "10.192.0.10",
		want: dedent(`
IP:          10.192.0.10
Status:      in use
Subnet:      defaultnet (10.192.0.0/16)
Block:       defaultnet.10-192-0-0-26 (10.192.0.0/26, node node-a)
Node:        node-b
Namespace:   default
Pod:         db-0
Pod UID:     uid-db-0
Container:   c-db-0
Interface:   eth0
Static:      yes
Age:         <unknown>
`),
	}, {
		name: "free in a claimed block",
		ip:   "10.192.0.40",
		want: dedent(`
IP:       10.192.0.40
Status:   free
Subnet:   defaultnet (10.192.0.0/16)
Block:    defaultnet.10-192-0-0-26 (10.192.0.0/26, node node-a)
`),
	}, {
		name: "free, block not claimed",
		ip:   "10.192.0.200",
		want: dedent(`
IP:       10.192.0.200
Status:   free
Subnet:   defaultnet (10.192.0.0/16)
Block:    10.192.0.192/26 (not claimed by any node yet)
`),
	}, {
		name: "gateway",
		ip:   "10.192.0.1",
		want: dedent(`
IP:       10.192.0.1
Status:   gateway
Subnet:   defaultnet (10.192.0.0/16)
Block:    defaultnet.10-192-0-0-26 (10.192.0.0/26, node node-a)
`),
	}, {
		name: "excluded",
		ip:   "10.182.0.15",
		want: dedent(`
IP:       10.182.0.15
Status:   excluded
Subnet:   newnet (10.182.0.0/24)
Block:    newnet.10-182-0-0-26 (10.182.0.0/26, node node-a)
`),
	}, {
		name: "network and broadcast",
		ip:   "10.192.255.255",
		want: dedent(`
IP:       10.192.255.255
Status:   broadcast address
Subnet:   defaultnet (10.192.0.0/16)
Block:    10.192.255.192/26 (not claimed by any node yet)
`),
	}, {
		name: "block of a deleted subnet",
		ip:   "10.50.0.5",
		want: dedent(`
IP:          10.50.0.5
Status:      in use
Subnet:      gone (SubNet not found)
Block:       gone.10-50-0-0-26 (10.50.0.0/26, node node-a)
Node:        node-a
Namespace:   old
Pod:         leftover
Pod UID:     -
Container:   c-old
Interface:   eth0
Static:      no
Age:         <unknown>
`),
	}, {
		name: "outside every subnet",
		ip:   "198.51.100.7",
		want: dedent(`
IP:       198.51.100.7
Status:   not in any subnet
`),
	}, {
		name:    "not an address",
		ip:      "10.192.0",
		wantErr: `"10.192.0" is not an IPv4 address`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRun(t, []string{"ip", tt.ip}, tt.want, tt.wantErr)
		})
	}
}
