#!/usr/bin/env bash
# Prints the path of the pinned helm binary, building it from the Go module proxy
# the first time into a version-keyed cache (~/.cache/kubefay/helm/<version>/helm).
# Usage: hack/helm.sh            (HELM_VERSION overrides the pin)
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v4.3.2}
DIR=${KUBEFAY_CACHE:-$HOME/.cache/kubefay}/helm/$HELM_VERSION
if [ ! -x "$DIR/helm" ]; then
  echo "building helm $HELM_VERSION into $DIR" >&2
  rm -rf "$DIR.tmp"; mkdir -p "$DIR.tmp"
  # outside any module: go install resolves helm's own go.mod, not kubefay's
  (cd "$DIR.tmp" && CGO_ENABLED=0 GOBIN=$DIR.tmp go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") >&2
  rm -rf "$DIR"; mv "$DIR.tmp" "$DIR"
fi
echo "$DIR/helm"
