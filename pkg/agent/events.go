package agent

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newEventRecorder returns a function that records a Warning Event on a pod
// (what `kubectl describe pod` shows next to kubelet's sandbox error).
func newEventRecorder(ctx context.Context, c client.Client, node string) func(namespace, name, reason, message string) {
	return func(namespace, name, reason, message string) {
		now := metav1.NewTime(time.Now())
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: namespace, GenerateName: name + ".kubefay-"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: namespace, Name: name},
			Reason:         reason, Message: message, Type: corev1.EventTypeWarning,
			Source:         corev1.EventSource{Component: "kubefay-agent", Host: node},
			FirstTimestamp: now, LastTimestamp: now, Count: 1,
			ReportingController: "kubefay.kubefay.github.com/agent", ReportingInstance: fmt.Sprintf("kubefay-agent-%s", node),
		}
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := c.Create(ectx, ev); err != nil {
			klog.ErrorS(err, "record event", "pod", klog.KRef(namespace, name), "reason", reason)
		}
	}
}
