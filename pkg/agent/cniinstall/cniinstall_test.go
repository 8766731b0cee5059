package cniinstall

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
