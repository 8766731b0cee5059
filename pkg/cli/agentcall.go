package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AgentCaller sends one request to the kubefay agent of node: path and JSON
// body as `kubefay-agent ctl` takes them (nil body: GET). It returns the
// agent's JSON answer.
type AgentCaller func(ctx context.Context, node, path string, body []byte) ([]byte, error)

// agentContainer is the agent's container in the DaemonSet's pods.
const agentContainer = "agent"

// agentPods lists the agent pods (label app=kubefay,component=agent) of
// the agent namespace, optionally on one node only.
func agentPods(ctx context.Context, c client.Reader, namespace, node string) ([]corev1.Pod, error) {
	var pods corev1.PodList
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingLabels{"app": "kubefay", "component": "agent"}}
	if err := c.List(ctx, &pods, opts...); err != nil {
		return nil, fmt.Errorf("list kubefay agent pods in %s: %w", namespace, err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if (node == "" || p.Spec.NodeName == node) && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 && node != "" {
		return nil, fmt.Errorf("no running kubefay agent pod on node %s (namespace %s)", node, namespace)
	}
	return out, nil
}

// execCaller reaches a node's agent by exec'ing `kubefay-agent ctl` in its
// agent pod through the API server, with the user's own credentials: the
// user needs get/list on pods and create on pods/exec in the agent
// namespace. Nothing talks to the node directly.
func (o *Options) execCaller() (AgentCaller, error) {
	cfg, err := o.kube.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c, err := o.client()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, node, path string, body []byte) ([]byte, error) {
		pods, err := agentPods(ctx, c, o.agentNamespace, node)
		if err != nil {
			return nil, err
		}
		pod := pods[0]
		cmd := []string{"/usr/local/bin/kubefay-agent", "ctl", path}
		if body != nil {
			cmd = append(cmd, string(body))
		}
		req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).
			SubResource("exec").VersionedParams(&corev1.PodExecOptions{Container: agentContainer, Command: cmd,
			Stdout: true, Stderr: true}, scheme.ParameterCodec)
		ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
		if err != nil {
			return nil, err
		}
		spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
		if err != nil {
			return nil, err
		}
		exe, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		})
		if err != nil {
			return nil, err
		}
		var out, errOut bytes.Buffer
		if err := exe.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut}); err != nil {
			if msg := strings.TrimSpace(errOut.String()); msg != "" {
				return nil, fmt.Errorf("agent on %s: %s", node, strings.TrimPrefix(msg, "kubefay-agent: "))
			}
			return nil, fmt.Errorf("exec in %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		return out.Bytes(), nil
	}, nil
}

// callAgent is the caller of the commands: Options.CallAgent, else exec.
func (o *Options) callAgent() (AgentCaller, error) {
	if o.CallAgent != nil {
		return o.CallAgent, nil
	}
	return o.execCaller()
}
