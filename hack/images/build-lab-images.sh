#!/usr/bin/env bash
# Builds the container images the lab's nodes need, with no Docker and no registry:
# docker-archive tarballs that `ctr images import` reads, tagged with the names the
# upstream e2e framework of the lab's Kubernetes version asks for
# (k8s.io/kubernetes/test/utils/image/manifest.go).
#
#   pause.tar    registry.k8s.io/pause:3.10.2 (+3.10.1, 3.10)      hack/images/pause (static Go)
#   busybox.tar  registry.k8s.io/e2e-test-images/busybox:1.37.0-2, docker.io/library/busybox:{latest,1.36,1.37}
#   agnhost.tar  registry.k8s.io/e2e-test-images/agnhost:2.66.1 (+2.55 = AgnhostPrev) and
#                registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1 (the DNS probers only need
#                sh, dig and getent, which this image has)
#   coredns.tar  registry.k8s.io/coredns/coredns:v1.15.0           (only when COREDNS_BIN is given)
#
# Usage: hack/images/build-lab-images.sh OUTDIR K8S_BIN [COREDNS_BIN]
# Each image is rebuilt only when its inputs changed (a stamp per image in OUTDIR).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:?usage: $0 OUTDIR K8S_BIN [COREDNS_BIN]}
K8S_BIN=${2:?usage: $0 OUTDIR K8S_BIN [COREDNS_BIN]}
COREDNS_BIN=${3:-}
COREDNS_TAG=${COREDNS_TAG:-registry.k8s.io/coredns/coredns:v1.15.0}
mkdir -p "$OUT" "$ROOT/_output/tools"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
say() { echo "[images] $*" >&2; }

# ---- tools -------------------------------------------------------------------------
MKIMAGE=$ROOT/_output/tools/mkimage
if [ ! -x "$MKIMAGE" ] || [ -n "$(find "$ROOT/hack/tools/mkimage" "$ROOT/go.sum" -newer "$MKIMAGE" -print -quit)" ]; then
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$MKIMAGE" ./hack/tools/mkimage)
fi
PAUSE=$ROOT/_output/tools/pause
if [ ! -x "$PAUSE" ] || [ "$HERE/pause/main.go" -nt "$PAUSE" ]; then
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$PAUSE" ./hack/images/pause)
fi

# ---- helpers -----------------------------------------------------------------------
# fresh NAME INPUT...: true when OUT/NAME.tar was built from exactly these inputs.
# An input is a file (hashed by content) or a literal string.
stamp_of() {
  local i
  { sha256sum "$0"; for i in "$@"; do if [ -f "$i" ]; then sha256sum "$i"; else echo "$i"; fi; done; } | sha256sum | cut -c1-32
}
fresh() {
  local n=$1; shift
  [ -f "$OUT/$n.tar" ] && [ "$(cat "$OUT/.$n.stamp" 2>/dev/null)" = "$(stamp_of "$@")" ]
}
mark() { local n=$1; shift; stamp_of "$@" > "$OUT/.$n.stamp"; }

# image NAME ROOTFS ENTRYPOINT(comma list or "") CMD(comma list or "") TAG...
image() {
  local n=$1 r=$2 ep=$3 cmd=$4 args=() t a; shift 4
  for t in "$@"; do args+=(-tag "$t"); done
  if [ -n "$ep" ]; then IFS=, read -ra a <<<"$ep"; for t in "${a[@]}"; do args+=(-entrypoint "$t"); done; fi
  if [ -n "$cmd" ]; then IFS=, read -ra a <<<"$cmd"; for t in "${a[@]}"; do args+=(-cmd "$t"); done; fi
  "$MKIMAGE" -rootfs "$r" -out "$OUT/$n.tar.tmp" "${args[@]}"
  mv -f "$OUT/$n.tar.tmp" "$OUT/$n.tar"
  say "$n.tar: $* ($(du -h "$OUT/$n.tar" | cut -f1))"
}

# host_bin ROOTFS PROG [NAME]: copy a host program and every shared library it loads.
host_bin() {
  local r=$1 src lib
  src=$(command -v "$2") || { say "host tool $2 missing, not in the image"; return 0; }
  mkdir -p "$r/usr/bin"
  cp -L "$src" "$r/usr/bin/${3:-$2}"
  for lib in $(ldd "$src" 2>/dev/null | grep -oE '/[^ )]+'); do
    [ -e "$r$lib" ] && continue
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
}

# busybox_root ROOTFS: Debian's static busybox, all its applets, users/groups the e2e
# specs expect, and a wget that understands -T (see below).
busybox_root() {
  local r=$1 a
  mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,root,var/tmp}; chmod 1777 "$r/tmp" "$r/var/tmp"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  # Debian's busybox 1.35 crashes (SIGSEGV) on `wget -T N`, which the Service e2e
  # specs use; emulate -T with the timeout applet.
  rm -f "$r/bin/wget"
  cat >"$r/bin/wget" <<'EOF'
#!/bin/busybox sh
# wget with -T SECONDS implemented by `timeout` (busybox 1.35's own -T crashes)
secs=
for arg do
  shift
  if [ "$secs" = next ]; then secs=$arg; continue; fi
  case $arg in
    -T) secs=next ;;
    -T*) secs=${arg#-T} ;;
    --timeout=*) secs=${arg#--timeout=} ;;
    *) set -- "$@" "$arg" ;;
  esac
done
if [ -n "$secs" ] && [ "$secs" != next ]; then exec /bin/busybox timeout "$secs" /bin/busybox wget "$@"; fi
exec /bin/busybox wget "$@"
EOF
  chmod 755 "$r/bin/wget"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user-defined-in-image:x:1000:1000:user-defined-in-image:/:/bin/sh
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
group-defined-in-image:x:50000:user-defined-in-image
EOF
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
  : >"$r/etc/hosts"; : >"$r/etc/resolv.conf"
}

BUSYBOX_VER=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || sha256sum /bin/busybox)

# ---- pause ---------------------------------------------------------------------------
if ! fresh pause "$PAUSE"; then
  r=$WORK/pause; mkdir -p "$r"; cp "$PAUSE" "$r/pause"
  image pause "$r" /pause "" registry.k8s.io/pause:3.10.2 registry.k8s.io/pause:3.10.1 registry.k8s.io/pause:3.10
  mark pause "$PAUSE"
fi

# ---- busybox -------------------------------------------------------------------------
if ! fresh busybox "$BUSYBOX_VER"; then
  r=$WORK/busybox; busybox_root "$r"
  image busybox "$r" "" sh registry.k8s.io/e2e-test-images/busybox:1.37.0-2 \
    docker.io/library/busybox:latest docker.io/library/busybox:1.36 docker.io/library/busybox:1.37
  mark busybox "$BUSYBOX_VER"
fi

# ---- agnhost -------------------------------------------------------------------------
# What the e2e specs run inside agnhost besides /agnhost: sh -c loops (dash, as upstream's
# image has a real shell; busybox's standalone sh would shadow nc with its own applet),
# bash, wget -T, curl, ip, socat, dig +search and getent hosts (DNS probers), nc with
# openbsd flags (`nc -v -t -w 2 NAME PORT`), and porter's TLS key pair in /.
TOOLS="dash bash curl ip socat dig getent nc.openbsd"
TOOL_VERS=$(for t in $TOOLS; do p=$(command -v "$t" || true); [ -n "$p" ] && stat -c '%n %s %Y' "$(readlink -f "$p")"; done)
if ! fresh agnhost "$K8S_BIN/agnhost" "$BUSYBOX_VER" "$TOOL_VERS"; then
  r=$WORK/agnhost; busybox_root "$r"
  cp "$K8S_BIN/agnhost" "$r/agnhost"; ln -s agnhost "$r/agnhost-2"; mkdir -p "$r/uploads"
  kdir=$(cd "$ROOT/hack/k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  install -m 0644 "$kdir/test/images/agnhost/porter/localhost.crt" "$kdir/test/images/agnhost/porter/localhost.key" "$r/"
  for t in $TOOLS; do host_bin "$r" "$t"; done
  if [ -x "$r/usr/bin/nc.openbsd" ]; then rm -f "$r/bin/nc"; ln -s nc.openbsd "$r/usr/bin/nc"; fi
  if [ -x "$r/usr/bin/dash" ]; then ln -sf /usr/bin/dash "$r/bin/sh"; fi
  if [ -x "$r/usr/bin/bash" ]; then ln -sf /usr/bin/bash "$r/bin/bash"; fi
  image agnhost "$r" /agnhost pause registry.k8s.io/e2e-test-images/agnhost:2.66.1 \
    registry.k8s.io/e2e-test-images/agnhost:2.55 registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1
  mark agnhost "$K8S_BIN/agnhost" "$BUSYBOX_VER" "$TOOL_VERS"
fi

# ---- coredns -------------------------------------------------------------------------
if [ -n "$COREDNS_BIN" ] && ! fresh coredns "$COREDNS_BIN" "$COREDNS_TAG"; then
  r=$WORK/coredns; mkdir -p "$r/etc" "$r/tmp"; chmod 1777 "$r/tmp"; cp "$COREDNS_BIN" "$r/coredns"
  image coredns "$r" /coredns "" "$COREDNS_TAG"
  mark coredns "$COREDNS_BIN" "$COREDNS_TAG"
fi
exit 0
