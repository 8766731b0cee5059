package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// TestRouteConflictIsReported: a SubNet whose CIDR is held on node1 by a
// route of someone else (as docker0's 172.17.0.0/16 would be) is reported —
// a RouteConflict Event naming the node and the route, and the SubNet's
// Programmed condition False naming node1 — while node1's agent stays Ready
// and its other pods keep getting networks. When the route goes, the
// condition turns True again.
func TestRouteConflictIsReported(t *testing.T) {
	disruptive(t)
	e := setup(t, "route-conflict")
	node := e.nodes[0].Name
	const cidr = "10.200.50.0/24"
	runLab(t, time.Minute, "exec", node, "ip", "route", "add", "blackhole", cidr, "proto", "static")
	removed := false
	remove := func() {
		if !removed {
			runLab(t, time.Minute, "exec", node, "ip", "route", "del", "blackhole", cidr, "proto", "static")
			removed = true
		}
	}
	defer remove()
	name := createSubnet(t, e.c, cidr)
	dc, err := dynamic.NewForConfig(e.c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	programmed := func(ctx context.Context) (status, message string, err error) {
		sn, err := dc.Resource(subnetGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "", err
		}
		conds, _, _ := unstructured.NestedSlice(sn.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Programmed" {
				s, _ := m["status"].(string)
				msg, _ := m["message"].(string)
				return s, msg, nil
			}
		}
		return "", "", nil
	}
	eventually(t, time.Minute, "SubNet "+name+" Programmed=False naming "+node, func(ctx context.Context) (bool, error) {
		s, msg, err := programmed(ctx)
		return s == "False" && strings.Contains(msg, node) && strings.Contains(msg, cidr), err
	})
	eventually(t, time.Minute, "a RouteConflict Event on SubNet "+name, func(ctx context.Context) (bool, error) {
		evs, err := e.c.cs.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=SubNet,involvedObject.name=" + name})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Reason == "RouteConflict" && strings.Contains(ev.Message, node) && strings.Contains(ev.Message, cidr) {
				t.Logf("event: %s", ev.Message)
				return true, nil
			}
		}
		return false, nil
	})
	e.waitAgentReady(node, "", agentReadyTimeout)
	e.createPods(netexecPod("still-served", node)) // defaultnet on the same node keeps working
	remove()
	eventually(t, 2*time.Minute, "SubNet "+name+" Programmed=True once the route is gone", func(ctx context.Context) (bool, error) {
		s, _, err := programmed(ctx)
		return s == "True", err
	})
}
