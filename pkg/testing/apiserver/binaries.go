package apiserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// EnvBinDir names the directory holding etcd and kube-apiserver.
const EnvBinDir = "KUBEFAY_K8S_BIN"

// ErrNoBinaries is wrapped by the error Run returns when etcd or
// kube-apiserver cannot be found.
var ErrNoBinaries = errors.New("kubernetes binaries not found")

// BinDir returns the directory holding etcd and kube-apiserver.
func BinDir() (string, error) {
	var candidates []string
	if d := os.Getenv(EnvBinDir); d != "" {
		candidates = append(candidates, d)
	} else if root, err := RepoRoot(); err == nil {
		found, _ := filepath.Glob(filepath.Join(root, "_output", "k8s", "*", "bin"))
		sort.Sort(sort.Reverse(sort.StringSlice(found))) // newest version first
		candidates = append(candidates, found...)
	}
	for _, d := range candidates {
		if isExec(filepath.Join(d, "etcd")) && isExec(filepath.Join(d, "kube-apiserver")) {
			return d, nil
		}
	}
	where := "$" + EnvBinDir + " and _output/k8s/*/bin"
	if d := os.Getenv(EnvBinDir); d != "" {
		where = EnvBinDir + "=" + d
	}
	return "", fmt.Errorf("%w: no etcd + kube-apiserver in %s (build them with hack/k8s, or set %s)", ErrNoBinaries, where, EnvBinDir)
}

// RepoRoot returns the directory of the go.mod above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SkipOrFail ends the test because of err: a skip when the binaries are
// missing outside CI, a failure otherwise.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoBinaries) && !strings.EqualFold(os.Getenv("CI"), "true") {
		t.Skipf("skipping: %v", err)
	}
	t.Fatal(err)
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
