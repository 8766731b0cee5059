// Package ovsdb is a small, dependency-free OVSDB client (RFC 7047) for the
// kubefay agent, plus a typed layer for the parts of the Open_vSwitch
// database the agent manages (bridges and their table names, ports,
// interfaces).
//
// The generic layer speaks JSON-RPC 1.0 over "unix:<path>" or
// "tcp:<host>:<port>": Client.Transact runs a transaction made of
// Operation values, Client.Monitor keeps an in-memory Cache of selected
// tables up to date through "update" or "update2" notifications, echo
// requests are answered and sent as keepalives, and a lost connection is
// re-established with exponential back-off, after which every monitor is
// re-issued and the cache replaced by the server's current contents.
//
// OVSDB values are represented as Go values: string, int64, float64, bool,
// UUID and NamedUUID for atoms, Set for sets and Map for maps. Decoded rows
// (Row) always hold those types; when the schema is known (monitors fetch
// it) set-typed columns are always a Set and map-typed columns a Map, even
// when the server used the single-atom shorthand.
//
// The typed layer, VSwitch, offers idempotent helpers (EnsureBridge,
// EnsurePort, DeletePort, ListPorts, WaitOFPort). Each change is one
// transaction that also bumps Open_vSwitch next_cfg; by default the call
// returns once ovs-vswitchd has reported the new configuration in cur_cfg,
// like ovs-vsctl does.
package ovsdb
