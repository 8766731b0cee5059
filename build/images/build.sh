#!/usr/bin/env bash
# Builds the kubefay container image without Docker: static Go binaries + the
# CNI plugins kubefay chains (loopback, portmap, bandwidth) + the host tools the
# agent and a debugging user need (nft, ip, ovs-vsctl/ofctl/appctl, conntrack, curl,
# busybox), written as a docker-archive at _output/images/kubefay.tar.
# Usage: build/images/build.sh [TAG]     (default kubefay/kubefay:dev)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd); cd "$ROOT"
TAG=${1:-${KUBEFAY_IMAGE:-kubefay/kubefay:dev}}
OUT=$ROOT/_output/images; mkdir -p "$OUT" _output/bin
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
R=$W/rootfs; mkdir -p "$R"/{usr/local/bin,opt/cni/bin,bin,etc,tmp,var/run,run,root}
chmod 1777 "$R/tmp"

make -s build
cp _output/bin/kubefay-* _output/bin/kubectl-kubefay "$R/usr/local/bin/" 2>/dev/null || true
[ -x _output/bin/kubefay-cni ] && cp _output/bin/kubefay-cni "$R/opt/cni/bin/"
for p in main/loopback meta/portmap meta/bandwidth; do
  CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$R/opt/cni/bin/" "github.com/containernetworking/plugins/plugins/$p"
done

# copy_tool BIN: a dynamically linked host binary and its shared libraries
copy_tool() {
  local b; b=$(command -v "$1") || { echo "missing host tool $1" >&2; exit 1; }
  mkdir -p "$R$(dirname "$b")"; cp -L "$b" "$R$b"
  ldd "$b" 2>/dev/null | grep -oE '/[^ ]+' | while read -r l; do mkdir -p "$R$(dirname "$l")"; cp -Ln "$l" "$R$l"; done
}
for t in nft ip ovs-vsctl ovs-ofctl ovs-appctl ovs-dpctl conntrack ethtool curl; do copy_tool "$t"; done
cp /bin/busybox "$R/bin/busybox"
for a in sh ls cat cp mv rm mkdir ln ps grep sed awk head tail wc sleep date env ping nc wget vi find; do
  [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"; printf 'root:x:0:\n' > "$R/etc/group"

go build -o "$W/mkimage" ./hack/tools/mkimage
"$W/mkimage" -rootfs "$R" -out "$OUT/kubefay.tar" -tag "$TAG" -entrypoint /usr/local/bin/kubefay-agent
echo "image $TAG -> $OUT/kubefay.tar ($(du -h "$OUT/kubefay.tar" | cut -f1))"
