#!/usr/bin/env bash
# Regenerates hack/k8s/go.mod: a small module (not the product's) that pins the
# Kubernetes release the lab runs. k8s.io/kubernetes points its staging modules at
# ./staging/src/...; here they are pointed at the published k8s.io/<name> v0.MINOR.PATCH tags.
# Usage: hack/k8s/gen-gomod.sh v1.37.2 && (cd hack/k8s && go mod tidy)
set -euo pipefail
cd "$(dirname "$0")"
V=${1:?kubernetes version, e.g. v1.37.2}
SV="v0.${V#v1.}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
modfile=$(cd "$tmp" && go mod download -json "k8s.io/kubernetes@$V" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$modfile" ] || { echo "cannot download k8s.io/kubernetes@$V" >&2; exit 1; }
goline=$(grep -m1 '^go ' "$modfile")
staging=$(sed -n '/^replace (/,/^)/p' "$modfile" | awk '$3 ~ /^\.\/staging/ {print $1}')
{
  printf 'module github.com/kubefay/kubefay/hack/k8s\n\n%s\n\nrequire k8s.io/kubernetes %s\n\n' "$goline" "$V"
  printf '// The lab binaries (hack/k8s/build.sh); tool directives keep their deps in go.sum.\ntool (\n'
  for p in cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy cmd/kubectl test/images/agnhost; do
    printf '\tk8s.io/kubernetes/%s\n' "$p"
  done
  printf '\tgo.etcd.io/etcd/server/v3\n)\n\nreplace (\n'
  for m in $staging; do printf '\t%s => %s %s\n' "$m" "$m" "$SV"; done
  printf ')\n'
} > go.mod
echo "hack/k8s/go.mod: k8s.io/kubernetes $V, $(echo "$staging" | wc -w) staging modules at $SV"
