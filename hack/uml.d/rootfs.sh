# Sourced by hack/uml. Builds the guest image from Debian packages (mmdebstrap) plus the
# UML kernel's modules and the guest's PID 1. The image is cached under $OUT, keyed by
# this file, the init, kmod.sh and the user-mode-linux version: edit any and it is rebuilt.
UML_PKGS=openvswitch-switch,iproute2,nftables,iptables,conntrack,iputils-ping,ethtool,kmod,procps,busybox-static,netcat-openbsd,tcpdump,containerd,runc,iperf3,socat,util-linux,mount

uml_image() {   # prints the path of the cached image for the current key
  local key
  key=$( { cat "$HERE/rootfs.sh" "$HERE/init"; kmod_key; dpkg-query -W -f='${Version}' user-mode-linux; } | sha256sum | cut -c1-12)
  echo "$OUT/rootfs-$key.img"
}

uml_build_rootfs() {
  local img t mods kmod t0=$SECONDS
  img=$(uml_image)
  [ -s "$img" ] && { echo "$img"; return; }
  mods=$(ls -d /usr/lib/uml/modules/* | tail -1)
  kmod=$(uml_kmod)
  t=$OUT/rootfs.tmp
  # mmdebstrap --mode=root bind-mounts /dev,/proc,/sys into $t while it runs: never rm across them
  { grep " $t" /proc/mounts || true; } | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$t"
  echo "[uml] building the guest rootfs (mmdebstrap bookworm: $UML_PKGS)" >&2
  mmdebstrap --mode=root --variant=minbase --format=directory --include="$UML_PKGS" bookworm "$t" \
    >"$OUT/mmdebstrap.log" 2>&1 || { tail -20 "$OUT/mmdebstrap.log" >&2; return 1; }
  mkdir -p "$t/lib/modules"
  cp -a "$mods" "$t/lib/modules/"
  cp -a "$kmod/kernel" "$t/lib/modules/${mods##*/}/"   # replaces Debian's: conntrack zones on
  depmod -b "$t" "${mods##*/}"
  install -m 755 "$HERE/init" "$t/sbin/kf-uml-init"
  rm -rf "$t/var/cache/apt/archives"/*.deb "$t/usr/share/doc" "$t/usr/share/man"
  mkfs.ext4 -q -F -L kf-uml -d "$t" "$img.tmp" 1G >&2
  rm -rf --one-file-system "$t"
  rm -f "$OUT"/rootfs-*.img   # older keys
  mv "$img.tmp" "$img"
  echo "[uml] rootfs $img in $((SECONDS - t0)) s ($(du -h "$img" | cut -f1) allocated)" >&2
  echo "$img"
}
