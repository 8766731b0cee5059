// Package networkpolicy computes, for one node, the OpenFlow flows that
// enforce Kubernetes NetworkPolicy (networking.k8s.io/v1) on the node's
// local pods. It is pure computation: the agent feeds it pods, namespaces
// and policies (from informers) and hands the flows it returns to the flow
// syncer; nothing here talks to Kubernetes or OVS.
//
// # Flows
//
// Each rule of a policy (policy, direction, rule index) becomes up to a few
// conjunctive matches (one per distinct resolution of its named ports) with
// up to three dimensions:
//
//	1 applied-to  the selected local pods: nw_dst (ingress) / nw_src (egress)
//	2 peers       pod IPs as /32 and ipBlock prefixes: nw_src (ingress) / nw_dst (egress)
//	3 ports       tcp/udp/sctp with an exact or masked tp_dst, or the protocol alone
//
// A dimension meaning "any" is left out; one that matches nothing makes the
// rule install nothing. With two or three dimensions every member is a
// clause flow at pipeline.PolicyRulePriority with conjunction(id,k/n), and
// one flow conj_id=id at the same priority passes the packet on
// (pipeline.IngressNext / pipeline.EgressNext). With the applied-to
// dimension alone, plain flows at pipeline.PolicyRuleDirectPriority pass.
// Clause (and direct) flows with the same table, priority and match coming
// from several rules are one flow carrying every rule's conjunction action:
// the engine keeps them reference counted per conjunction id.
//
// A local pod selected by a policy for a direction is isolated: one flow at
// pipeline.PolicyDefaultDenyPriority matching its address drops what no rule
// allowed.
//
// # Cookies
//
// Every flow carries pipeline.Cookie(pipeline.FeatureNetworkPolicy, id) with
//
//	id bits 47..32  kind: 1 rule allow (conj_id flow or direct flow),
//	                2 default deny ingress, 3 default deny egress,
//	                4 conjunction clause flow
//	id bits 31..0   kind 1: the conjunction id (direct flows shared by several
//	                rules carry the smallest); kind 2, 3: the pod's IPv4
//	                address as a big-endian uint32; kind 4: the smallest
//	                conjunction id the clause belongs to
//
// so the packet counters of rule N are those of the flow with cookie
// Cookie(FeatureNetworkPolicy, 1<<32|N), and Rules maps ids back to policies.
//
// # Owners
//
// Changes and All group flows by owner key, each key owning disjoint flow
// entries:
//
//	np/conj/<id>                    the conj_id flow of conjunction <id>
//	np/clause/<table>/<member>      one clause flow (member: src=/dst= prefix, tcp=port/mask, udp, ...)
//	np/direct/<table>/<member>      one direct allow flow
//	np/deny/in/<ip>, np/deny/out/<ip>  default deny of an isolated pod address
//
// Only IPv4 is handled: pods and ipBlocks of other families are ignored.
package networkpolicy
