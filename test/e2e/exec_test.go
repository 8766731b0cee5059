package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

// execIn runs cmd (argv, no shell) in a container of pod and returns its
// stdout and stderr. A non-zero exit status is returned as an error that
// names the pod, the container, the command, the exit status and stderr;
// exitStatus extracts the status from it. The websocket protocol is tried
// first and SPDY is the fallback (what kubectl does).
func (c *cluster) execIn(ctx context.Context, pod *corev1.Pod, container string, cmd ...string) (stdout, stderr string, err error) {
	req := c.cs.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   cmd,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(c.cfg, "GET", req.URL().String())
	if err != nil {
		return "", "", fmt.Errorf("exec in %s/%s[%s]: websocket executor: %w", pod.Namespace, pod.Name, container, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.cfg, "POST", req.URL())
	if err != nil {
		return "", "", fmt.Errorf("exec in %s/%s[%s]: spdy executor: %w", pod.Namespace, pod.Name, container, err)
	}
	exe, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", "", err
	}
	var out, errOut bytes.Buffer
	err = exe.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	stdout, stderr = out.String(), errOut.String()
	if err != nil {
		return stdout, stderr, &execError{pod: pod.Namespace + "/" + pod.Name, container: container, cmd: cmd, stderr: stderr, err: err}
	}
	return stdout, stderr, nil
}

// execError says which command failed where, with its exit status and stderr.
type execError struct {
	pod, container string
	cmd            []string
	stderr         string
	err            error
}

func (e *execError) Error() string {
	status := e.err.Error()
	if code, ok := exitStatus(e.err); ok {
		status = fmt.Sprintf("exit status %d", code)
	}
	msg := fmt.Sprintf("exec %q in %s[%s]: %s", strings.Join(e.cmd, " "), e.pod, e.container, status)
	if s := strings.TrimSpace(e.stderr); s != "" {
		msg += ": " + oneLine(s, 300)
	}
	return msg
}

func (e *execError) Unwrap() error { return e.err }

// exitStatus returns the exit status of a command that ran and failed, and
// false when err is not an exit status (the exec itself failed).
func exitStatus(err error) (int, bool) {
	var ee utilexec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus(), true
	}
	return 0, false
}

// oneLine folds s into one line of at most max bytes, for matrix cells and
// failure messages.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
