# Sourced by hack/uml. Debian's UML kernel lacks two options production kernels have:
#  - CONFIG_NF_CONNTRACK_ZONES: its OVS rejects every ct(zone=N) action ("datapath does not
#    support ct zones"), so kubefay's pipeline (zone 65520) cannot be installed;
#  - CONFIG_NF_TABLES_IPV4 (+ NFT_NAT): `nft add table ip ...` fails (EOPNOTSUPP), so the
#    agent's `ip kubefay` table cannot be.
# This rebuilds the modules they touch (netfilter, openvswitch, bridge, tc) from Debian's
# linux-source of the same version with them on. The kernel image keeps the old struct nf_conn
# layout: its own uses of it (flow dissector ct keys, icmp_ndo_send) are not on our path.
KMOD_ON="NF_CONNTRACK_ZONES NF_TABLES_IPV4 NF_TABLES_IPV6 NF_TABLES_INET NFT_NAT"
KMOD_DIRS="net/netfilter net/ipv4/netfilter net/ipv6/netfilter net/openvswitch net/bridge net/sched"

kmod_key() { { cat "$HERE/kmod.sh"; dpkg-query -W -f='${Version}' user-mode-linux; } | sha256sum | cut -c1-12; }

# uml_kmod: prints a directory of rebuilt modules (paths relative to lib/modules/VER), cached.
uml_kmod() {
  local ver deb src out d t0=$SECONDS
  out=$OUT/kmod-$(kmod_key)
  [ -f "$out/.done" ] && { echo "$out"; return; }
  ver=$(basename "$(ls -d /usr/lib/uml/modules/* | tail -1)")
  src=$OUT/src/linux-source-${ver%.*}
  if [ ! -f "$src/Makefile" ]; then
    deb=$(apt-cache madison "linux-source-${ver%.*}" | awk -v v="$ver" '$3 ~ "^"v"-" {print $3; exit}')
    [ -n "$deb" ] || { echo "[uml] no linux-source-${ver%.*} $ver-* in apt (apt-get update?)" >&2; return 1; }
    echo "[uml] fetching linux-source-${ver%.*}=$deb to rebuild conntrack modules with zones" >&2
    rm -rf "$OUT/src"; mkdir -p "$OUT/src"
    (cd "$OUT/src" && apt-get -qq -o APT::Sandbox::User=root download "linux-source-${ver%.*}=$deb" &&
      dpkg-deb --fsys-tarfile ./*.deb | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' | tar -xJ &&
      rm -f ./*.deb) || return 1
  fi
  (cd "$src" && zcat /usr/share/doc/user-mode-linux/config.gz >.config &&
    for o in $KMOD_ON; do scripts/config --enable "$o"; done && make -s ARCH=um olddefconfig &&
    make -s -j"$(nproc)" ARCH=um modules_prepare) >&2 || return 1
  [ "$(cd "$src" && make -s ARCH=um kernelrelease)" = "$ver" ] || { echo "[uml] $src is not $ver" >&2; return 1; }
  for o in $KMOD_ON; do grep -qE "^CONFIG_$o=[ym]" "$src/.config" || { echo "[uml] CONFIG_$o did not stick" >&2; return 1; }; done
  for d in $KMOD_DIRS; do
    # without Module.symvers modpost cannot see other directories' symbols: warnings only
    make -C "$src" -s -j"$(nproc)" ARCH=um M="$d" KBUILD_MODPOST_WARN=1 modules 2>&1 |
      grep -vE 'modpost|Modules may not|unresolved symbol|Module.symvers' >&2 || true
  done
  rm -rf "$OUT"/kmod-*; mkdir -p "$out"
  (cd "$src" && find $KMOD_DIRS -name '*.ko' | while read -r f; do install -D -m 644 "$f" "$out/kernel/$f"; done)
  touch "$out/.done"
  echo "[uml] $(find "$out" -name '*.ko' | wc -l) conntrack modules with zones in $((SECONDS - t0)) s" >&2
  echo "$out"
}
