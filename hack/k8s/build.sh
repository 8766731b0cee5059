#!/usr/bin/env bash
# Builds the Kubernetes binaries the lab runs, from the Go module proxy, into a
# version-keyed cache: _output/k8s/<version>/bin. Skips the build when every
# binary is already there (stamp file), so `make lab` re-runs are cheap.
# Usage: hack/k8s/build.sh [OUTDIR]      (default: _output/k8s/$K8S_VERSION/bin)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$HERE"
KV=$(awk '($1=="require" && $2=="k8s.io/kubernetes") {print $3} ($1=="k8s.io/kubernetes" && $2 ~ /^v/) {print $2}' go.mod | head -1)
[ -n "$KV" ] || { echo "no k8s.io/kubernetes version in hack/k8s/go.mod" >&2; exit 1; }
OUT=${1:-$ROOT/_output/k8s/$KV/bin}
TARGETS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl etcd agnhost)
mkdir -p "$OUT"
stamp="$OUT/.built-$(sha256sum go.mod go.sum build.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then echo "k8s $KV binaries cached in $OUT"; exit 0; fi

EV=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LD="-s -w"
# Unstamped binaries report v0.0.0-master and fail version-skew checks.
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD+=" -X $p.gitVersion=$KV -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$KV" | cut -d. -f2)"
  LD+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean -X $p.buildDate=$DATE"
done
LD+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=proxy-$EV"
PKGS=(go.etcd.io/etcd/server/v3 k8s.io/kubernetes/test/images/agnhost)
for t in "${TARGETS[@]}"; do case $t in kube-*|kubelet|kubectl) PKGS+=("k8s.io/kubernetes/cmd/$t") ;; esac; done
echo "building k8s $KV + etcd $EV into $OUT"
start=$(date +%s)
# one go build: shared packages compile once
CGO_ENABLED=0 go build -trimpath -ldflags "$LD" -o "$OUT/" "${PKGS[@]}"
mv -f "$OUT/server" "$OUT/etcd"   # go.etcd.io/etcd/server/v3 builds a binary named "server"
rm -f "$OUT"/.built-*; touch "$stamp"
echo "built k8s $KV in $(( $(date +%s) - start ))s"
