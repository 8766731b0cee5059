#!/usr/bin/env bash
# Builds the lab's conformance binary, e2e.test: upstream Kubernetes e2e specs
# (sig-network, NetworkPolicy, common networking; module hack/k8s/e2e) at the lab's
# Kubernetes version, and the ginkgo CLI of the same module graph (runs e2e.test on
# parallel processes), into the same version-keyed cache as hack/k8s/build.sh:
# _output/k8s/<version>/bin/{e2e.test,ginkgo}. Rebuilt only when an input changes (stamp file
# over the module, this script and the Go version). CPU-heavy when cold (~6 min, 2.3 GB
# RSS): runs under `nice -n 10`.
# Usage: hack/k8s/build-e2e.sh [OUTDIR]      prints the path of e2e.test on stdout (ginkgo is next to it)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MOD=$HERE/e2e
cd "$MOD"
# k8s.io/kubernetes version of a go.mod (single-line or block require)
kver() { awk '($1=="require" && $2=="k8s.io/kubernetes") {print $3} ($1=="k8s.io/kubernetes" && $2 ~ /^v/) {print $2}' "$1" | head -1; }
KV=$(kver go.mod)
LABKV=$(kver "$HERE/go.mod")
[ -n "$KV" ] || { echo "no k8s.io/kubernetes version in $MOD/go.mod" >&2; exit 1; }
[ "$KV" = "$LABKV" ] || { echo "hack/k8s/e2e is at $KV but the lab runs $LABKV: regenerate hack/k8s/e2e/go.mod" >&2; exit 1; }
OUT=${1:-$ROOT/_output/k8s/$KV/bin}
BIN=$OUT/e2e.test
mkdir -p "$OUT"
stamp="$OUT/.e2e-built-$({ sha256sum go.mod go.sum ./*.go "$HERE/build-e2e.sh"; go env GOVERSION; } | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ -x "$BIN" ] && [ -x "$OUT/ginkgo" ]; then echo "e2e.test ($KV) cached in $OUT" >&2; echo "$BIN"; exit 0; fi

LD="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD+=" -X $p.gitVersion=$KV -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$KV" | cut -d. -f2)"
  LD+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean"
done
echo "building e2e.test ($KV: sig-network, netpol, common/network) into $OUT" >&2
start=$(date +%s)
CGO_ENABLED=0 nice -n 10 go test -c -vet=off -trimpath -ldflags "$LD" -o "$BIN.tmp" . >&2
mv -f "$BIN.tmp" "$BIN"
CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" -o "$OUT/ginkgo" github.com/onsi/ginkgo/v2/ginkgo >&2
rm -f "$OUT"/.e2e-built-*; touch "$stamp"
echo "built e2e.test in $(( $(date +%s) - start ))s ($(du -h "$BIN" | cut -f1))" >&2
echo "$BIN"
