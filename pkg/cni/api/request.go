package api

import (
	"encoding/json"

	"github.com/containernetworking/cni/pkg/types"
)

// DefaultSocketPath is where the agent listens for CNI requests unless the
// network configuration names another socket in "agentSocket".
const DefaultSocketPath = "/var/run/kubefay/cni.sock"

// Path is the HTTP path of the CNI endpoint on the agent's unix socket.
const Path = "/v1/cni"

// ContentType is the media type of requests and responses.
const ContentType = "application/json"

// Command is a CNI operation, as in CNI_COMMAND.
type Command string

// The CNI commands that are forwarded to the agent (VERSION is answered by
// the binary itself).
const (
	CommandAdd    Command = "ADD"
	CommandDel    Command = "DEL"
	CommandCheck  Command = "CHECK"
	CommandStatus Command = "STATUS"
	CommandGC     Command = "GC"
)

// Valid reports whether c is a command the agent serves.
func (c Command) Valid() bool {
	switch c {
	case CommandAdd, CommandDel, CommandCheck, CommandStatus, CommandGC:
		return true
	}
	return false
}

// Request is one CNI invocation, forwarded by the binary to the agent.
type Request struct {
	// Command is CNI_COMMAND.
	Command Command `json:"command"`
	// ContainerID is CNI_CONTAINERID (empty for STATUS and GC).
	ContainerID string `json:"containerID,omitempty"`
	// Netns is CNI_NETNS; DEL may come with an empty one once the sandbox
	// namespace is gone.
	Netns string `json:"netns,omitempty"`
	// IfName is CNI_IFNAME, the interface name inside the container.
	IfName string `json:"ifName,omitempty"`
	// Args is CNI_ARGS as received.
	Args string `json:"args,omitempty"`
	// Pod holds the Kubernetes keys parsed from CNI_ARGS.
	Pod PodArgs `json:"pod"`
	// CNIVersion is the cniVersion of the network configuration; the binary
	// converts the agent's result to it.
	CNIVersion string `json:"cniVersion"`
	// NetConf is the network configuration exactly as read from stdin,
	// including prevResult, runtimeConfig and cni.dev/valid-attachments.
	NetConf json.RawMessage `json:"netConf"`
}

// PodArgs are the Kubernetes keys that kubelet's runtime puts in CNI_ARGS.
type PodArgs struct {
	// Namespace is K8S_POD_NAMESPACE.
	Namespace string `json:"namespace,omitempty"`
	// Name is K8S_POD_NAME.
	Name string `json:"name,omitempty"`
	// UID is K8S_POD_UID.
	UID string `json:"uid,omitempty"`
	// InfraContainerID is K8S_POD_INFRA_CONTAINER_ID.
	InfraContainerID string `json:"infraContainerID,omitempty"`
}

// String returns "namespace/name", or "" when the pod is unknown.
func (p PodArgs) String() string {
	if p.Namespace == "" && p.Name == "" {
		return ""
	}
	return p.Namespace + "/" + p.Name
}

// Response is the agent's answer: exactly one of Result and Error is set.
type Response struct {
	// Result is a CNI result in version 1.1.0 (ADD only).
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the CNI error to report to the runtime.
	Error *types.Error `json:"error,omitempty"`
}
