#!/usr/bin/env bash
# Builds the kwok binary (fake nodes and pods against a real API server, for
# test/integration/scale) from the Go module proxy into a version-keyed cache,
# outside kubefay's go.mod: kwok's Kubernetes libraries never mix with ours.
# Prints the binary's path. Skips the build when it is already cached.
# Usage: hack/kwok/install.sh            (KWOK_VERSION, KUBEFAY_CACHE override)
set -euo pipefail
V=${KWOK_VERSION:-v0.8.0}
DIR=${KUBEFAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubefay}/kwok/$V
if [ -x "$DIR/kwok" ] && "$DIR/kwok" --version >/dev/null 2>&1; then echo "$DIR/kwok"; exit 0; fi
mkdir -p "$DIR"
start=$(date +%s)
echo "building kwok $V into $DIR (once)" >&2
# a module-less directory: `go install pkg@version` resolves kwok's own go.mod
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
GOBIN=$DIR CGO_ENABLED=0 GOFLAGS=-trimpath go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$V" >&2
echo "built kwok $V in $(( $(date +%s) - start ))s" >&2
echo "$DIR/kwok"
