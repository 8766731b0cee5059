package agent

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestEventRecorderFoldsRepeats(t *testing.T) {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).Build()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	record := newEventRecorder(ctx, c, "n1")

	const repeats = eventRepeatBurst + 5 // kubelet retrying a failing sandbox
	for i := 0; i < repeats; i++ {
		record("ns", "p", "AddressAllocationFailed", "ip pool exhausted: 10.0.0.10 held by ns/a")
	}
	record("ns", "p", "InvalidNetworkRequest", "another failure")
	record("ns", "q", "AddressAllocationFailed", "ip pool exhausted: 10.0.0.10 held by ns/a")

	// The events are written in order by one goroutine: once the last one
	// is there, the others are final.
	want := []string{
		fmt.Sprintf("p AddressAllocationFailed x%d: ip pool exhausted: 10.0.0.10 held by ns/a", eventRepeatBurst),
		"p InvalidNetworkRequest x1: another failure",
		"q AddressAllocationFailed x1: ip pool exhausted: 10.0.0.10 held by ns/a",
	}
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var list corev1.EventList
		if err := c.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		last := false
		for _, ev := range list.Items {
			if ev.Type != corev1.EventTypeWarning || ev.Source.Component != "kubefay-agent" || ev.Source.Host != "n1" ||
				ev.InvolvedObject.Kind != "Pod" || ev.Namespace != "ns" {
				t.Fatalf("event %+v", ev)
			}
			got = append(got, fmt.Sprintf("%s %s x%d: %s", ev.InvolvedObject.Name, ev.Reason, ev.Count, ev.Message))
			last = last || ev.InvolvedObject.Name == "q"
		}
		if last {
			break
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n  %q\nwant\n  %q", got, want)
	}
}
