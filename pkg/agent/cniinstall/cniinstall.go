// Package cniinstall puts kubefay's CNI binaries and network configuration on
// the node, as the agent's init step: atomically (write to a temporary file,
// then rename) so containerd never reads a half-written binary or conflist.
package cniinstall

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ConfListName is the file name of kubefay's network configuration.
const ConfListName = "10-kubefay.conflist"

// NetworkName is the CNI network name in the conflist.
const NetworkName = "kubefay"

// Plugins are the binaries copied from the image to the host: kubefay's own
// and the reference plugins it chains (portmap for hostPort, bandwidth for
// traffic shaping) plus loopback, which container runtimes call themselves.
var Plugins = []string{"kubefay-cni", "loopback", "portmap", "bandwidth"}

// CNIVersion is the conflist's "cniVersion", what a runtime whose libcni
// predates CNI 1.1 uses. It stays at 1.0.0: libcni before 1.2 (containerd
// 1.6 and 1.7) cannot parse a 1.1.0 result and would fail every ADD.
const CNIVersion = "1.0.0"

// CNIVersionLatest is the highest spec version the conflist declares. A
// runtime whose libcni knows CNI 1.1 (containerd 2, CRI-O) picks the highest
// entry of "cniVersions" it supports, so it runs the conflist at 1.1.0, with
// STATUS and GC.
const CNIVersionLatest = "1.1.0"

// CNIVersions is the conflist's "cniVersions" (CNI spec 1.1).
var CNIVersions = []string{CNIVersion, CNIVersionLatest}

// ConfList returns the conflist kubefay installs: kubefay-cni first, then
// portmap and bandwidth chained on its result.
func ConfList(agentSocket string) ([]byte, error) {
	doc := map[string]any{
		"cniVersion":  CNIVersion,
		"cniVersions": CNIVersions,
		"name":        NetworkName,
		"plugins": []map[string]any{
			{"type": "kubefay-cni", "agentSocket": agentSocket},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
			{"type": "bandwidth", "capabilities": map[string]bool{"bandwidth": true}},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// Install copies Plugins from srcBinDir into hostBinDir and writes the
// conflist into hostConfDir. Other conflists in hostConfDir are left alone.
func Install(srcBinDir, hostBinDir, hostConfDir, agentSocket string) error {
	for _, p := range Plugins {
		if err := copyFile(filepath.Join(srcBinDir, p), filepath.Join(hostBinDir, p), 0o755); err != nil {
			return fmt.Errorf("install CNI plugin %s: %w", p, err)
		}
	}
	conf, err := ConfList(agentSocket)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(hostConfDir, ConfListName), conf, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", ConfListName, err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomicFrom(dst, in, mode)
}

func writeAtomic(dst string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	return finish(tmp, dst, mode)
}

func writeAtomicFrom(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	return finish(tmp, dst, mode)
}

func finish(tmp *os.File, dst string, mode os.FileMode) error {
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
