package cnibin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pkgs    []string
		want    string
		wantErr bool
	}{
		{name: "module-relative", pkgs: []string{"./cmd/kubefay-cni"}, want: "kubefay-cni"},
		{name: "a dependency's plugin", pkgs: []string{"github.com/containernetworking/plugins/plugins/main/loopback"}, want: "loopback"},
		{name: "no such package", pkgs: []string{"./cmd/no-such-binary"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("builds binaries")
			}
			dir := t.TempDir()
			err := Build(dir, tc.pkgs...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Build: %v, want error %v", err, tc.wantErr)
			}
			if tc.want == "" {
				return
			}
			if fi, err := os.Stat(filepath.Join(dir, tc.want)); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s not built: %v", tc.want, err)
			}
		})
	}
}
