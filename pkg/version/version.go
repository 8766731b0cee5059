// Package version carries the build version of kubefay's binaries, set at
// link time with -ldflags "-X github.com/kubefay/kubefay/pkg/version.Version=...".
package version

// Version is the kubefay release or git description this binary was built from.
var Version = "dev"
