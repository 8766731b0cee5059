#!/usr/bin/env bash
# Installs the Debian packages kubefay's lab and tests need, only when missing.
# The Debian openvswitch-switch service is kept stopped: the lab and the tests
# run their own OVS instances, one per node / per test.
set -euo pipefail
PKGS=(openvswitch-switch openvswitch-common containerd runc containernetworking-plugins socat conntrack
      iptables nftables ethtool iproute2 iputils-ping busybox-static netcat-openbsd bind9-dnsutils
      curl jq procps psmisc iperf3 openssl kmod
      user-mode-linux mmdebstrap e2fsprogs xz-utils flex bison bc)   # last line: hack/uml (kernel datapath)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "[deps] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# no service may start during installation (policy-rc.d exit 101 = action forbidden)
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[deps] done"
