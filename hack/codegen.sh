#!/usr/bin/env bash
# Regenerates the deepcopy functions of pkg/apis and the CRD manifests in
# build/helm/kubefay/files/crds (the Helm chart renders them) with controller-gen
# (sigs.k8s.io/controller-tools), fetched through the Go module proxy at a pinned version.
#
# Usage: hack/codegen.sh          regenerate
#        hack/codegen.sh --verify fail if the generated files are stale
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
CONTROLLER_GEN=(go run "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_TOOLS_VERSION}")

CRDS=build/helm/kubefay/files/crds
generate() {
  local crd_dir=$1
  (cd "$ROOT" && "${CONTROLLER_GEN[@]}" \
    object:headerFile=hack/boilerplate.go.txt \
    crd:crdVersions=v1 \
    paths=./pkg/apis/... \
    output:crd:dir="$crd_dir")
}

if [ "${1:-}" = --verify ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp -r "$ROOT/pkg/apis" "$tmp/apis.before"
  generate "$tmp/crds"
  for f in "$tmp"/crds/*.yaml; do
    diff -u "$ROOT/$CRDS/$(basename "$f")" "$f" || { echo "$CRDS is stale: run hack/codegen.sh" >&2; exit 1; }
  done
  diff -ru "$tmp/apis.before" "$ROOT/pkg/apis" || { echo "pkg/apis deepcopy is stale: run hack/codegen.sh" >&2; exit 1; }
  exit 0
fi
generate "$CRDS"
echo "generated: pkg/apis/**/zz_generated.deepcopy.go, $CRDS/*.yaml (then: make manifests)"
