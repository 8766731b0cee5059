// Package apiserver starts a real etcd and kube-apiserver on loopback for
// tests: random free ports on 127.0.0.1, a fresh temporary directory with
// its own certificates, an admin bearer token in group system:masters.
//
// The binaries come from $KUBEFAY_K8S_BIN, else from the newest
// _output/k8s/<version>/bin of the repository (hack/k8s builds them). When
// they are missing a test is skipped with the reason, except under CI=true
// where it fails.
package apiserver
