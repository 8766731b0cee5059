package e2e

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestNodePortFromOtherNode: a NodePort Service whose only backend is on
// node1 answers on every node's address, from the network namespace of
// either node: node2 -> node2:nodePort (DNAT, then through the tunnel to
// node1), node2 -> node1:nodePort, node1 -> node1 and node1 -> node2.
func TestNodePortFromOtherNode(t *testing.T) {
	e := setup(t, "nodeport")
	n1 := e.nodes[0]
	specs := []*corev1.Pod{netexecPod("backend-"+n1.Name, n1.Name)}
	for _, n := range e.nodes {
		specs = append(specs, hostNetPod("host-"+n.Name, n.Name))
	}
	pods := e.createPods(specs...)
	backend := pods["backend-"+n1.Name]
	svc := e.createService("np", corev1.ServiceTypeNodePort, map[string]string{podLabel: backend.Name}, backend)
	var tcpPort, udpPortN int32
	for _, p := range svc.Spec.Ports {
		switch p.Protocol {
		case corev1.ProtocolTCP:
			tcpPort = p.NodePort
		case corev1.ProtocolUDP:
			udpPortN = p.NodePort
		}
	}
	if tcpPort == 0 || udpPortN == 0 {
		t.Fatalf("service np: expected TCP and UDP nodePorts, got %+v", svc.Spec.Ports)
	}
	t.Logf("service np: nodePort tcp %d udp %d, backend %s (%s) on %s", tcpPort, udpPortN, backend.Name, backend.Status.PodIP, n1.Name)

	var probes []probe
	for _, from := range e.nodes {
		host := pods["host-"+from.Name]
		for _, to := range e.nodes {
			tcpAddr := net.JoinHostPort(to.IP, strconv.Itoa(int(tcpPort)))
			udpAddr := net.JoinHostPort(to.IP, strconv.Itoa(int(udpPortN)))
			probes = append(probes,
				probe{kind: "tcp nodePort: http /hostname", from: "node " + from.Name, to: fmt.Sprintf("%s (%s)", to.Name, tcpAddr),
					expect: fmt.Sprintf("%q (backend on %s)", backend.Name, n1.Name),
					run: func(ctx context.Context) (string, bool) {
						body, err := e.c.curl(ctx, host, hostContainer, "http://"+tcpAddr+"/hostname")
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("%q", body), body == backend.Name
					}},
				probe{kind: "udp nodePort: a reply comes back", from: "node " + from.Name, to: fmt.Sprintf("%s (%s)", to.Name, udpAddr),
					expect: "agnhost connect --protocol=udp gets a reply (exit 0)",
					run: func(ctx context.Context) (string, bool) {
						_, _, err := e.c.execIn(ctx, host, hostContainer, "/agnhost", "connect", "--protocol=udp", "--udp-data=hostname", "--timeout=3s", udpAddr)
						if err != nil {
							return errText(err), false
						}
						return "reply received", true
					}},
			)
		}
	}
	reportProbes(t, "node -> NodePort", runProbes(probes, probeWindow))
}
