package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// subnetProblemsPatch is the merge patch of the agent's own Node that sets
// v1alpha1.NodeSubnetProblemsAnnotation to the JSON of problems, or removes
// it when there are none. It touches nothing else (the admission policy of
// build/helm/kubefay/templates/node-admission.yaml allows nothing else).
func subnetProblemsPatch(problems map[string]string) ([]byte, error) {
	var value any // nil: removed
	if len(problems) > 0 {
		b, err := json.Marshal(problems) // keys sorted: the same set, the same text
		if err != nil {
			return nil, err
		}
		value = string(b)
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		v1alpha1.NodeSubnetProblemsAnnotation: value}}})
}

// PublishSubnetProblems writes the SubNets node cannot serve on its Node
// (what the agent does with NodeSync.SubnetProblems).
func PublishSubnetProblems(ctx context.Context, c client.Client, node string, problems map[string]string) error {
	patch, err := subnetProblemsPatch(problems)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}
	if err := c.Patch(ctx, n, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("patching node %s annotation %s: %w", node, v1alpha1.NodeSubnetProblemsAnnotation, err)
	}
	return nil
}
