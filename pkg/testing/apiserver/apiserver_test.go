package apiserver

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"
)

// TestStartAndInstallCRDs starts etcd + kube-apiserver, talks to the API
// and installs kubefay's CRDs.
func TestStartAndInstallCRDs(t *testing.T) {
	s := Start(t, Options{})
	cs, err := kubernetes.NewForConfig(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server version %s", v.GitVersion)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	names, err := s.InstallCRDs(context.Background(), filepath.Join(root, CRDDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Errorf("installed %v, want SubNet and IPAMBlock", names)
	}
}

func TestBinDirFromEnv(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	if _, err := BinDir(); err == nil {
		t.Fatal("BinDir found binaries in an empty directory")
	}
}
