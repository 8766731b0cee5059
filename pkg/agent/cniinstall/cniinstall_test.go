package cniinstall

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
	cniversion "github.com/containernetworking/cni/pkg/version"
)

func TestInstall(t *testing.T) {
	src, bin, conf := t.TempDir(), t.TempDir(), t.TempDir()
	for _, p := range Plugins {
		if err := os.WriteFile(filepath.Join(src, p), []byte("#!"+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// twice: the second run replaces files in place
	for i := 0; i < 2; i++ {
		if err := Install(src, bin, conf, "/var/run/kubefay/cni.sock"); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range Plugins {
		fi, err := os.Stat(filepath.Join(bin, p))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v %v", p, fi, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(conf, ConfListName))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name    string           `json:"name"`
		Plugins []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != NetworkName || len(doc.Plugins) != 3 || doc.Plugins[0]["type"] != "kubefay-cni" || doc.Plugins[0]["agentSocket"] != "/var/run/kubefay/cni.sock" {
		t.Fatalf("unexpected conflist: %s", data)
	}
	entries, _ := os.ReadDir(conf)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := Install(t.TempDir(), bin, conf, "x"); err == nil {
		t.Fatal("missing source binaries must fail")
	}
}

// TestConfListVersions: a CNI 1.1 runtime (libcni reading "cniVersions")
// runs the conflist at 1.1.0; an older one reads "cniVersion", 1.0.0.
func TestConfListVersions(t *testing.T) {
	data, err := ConfList("/var/run/kubefay/cni.sock")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CNIVersion  string   `json:"cniVersion"`
		CNIVersions []string `json:"cniVersions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.CNIVersion != "1.0.0" || len(doc.CNIVersions) != 2 || doc.CNIVersions[1] != "1.1.0" {
		t.Errorf("cniVersion %q cniVersions %q, want 1.0.0 and [1.0.0 1.1.0]", doc.CNIVersion, doc.CNIVersions)
	}
	list, err := libcni.ConfListFromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if list.CNIVersion != "1.1.0" || len(list.Plugins) != 3 {
		t.Errorf("libcni %s reads version %s and %d plugins, want 1.1.0 and 3", cniversion.Current(), list.CNIVersion, len(list.Plugins))
	}
}
