# shellcheck shell=bash
# The lab's "physical" network in the root namespace: bridge $BR ($GW_IP), an external host
# netns ($EXT_NS, $EXT_IP, agnhost netexec on :8080), and the leak guard: blackhole routes for
# every pod/service range, with more specific routes to node1 installed once nodes exist.
# Everything added is recorded under $REG/host so `down` removes exactly that.

deps_up() { "$ROOT/hack/install-deps.sh"; }
k8s_bins_up() {
  local out
  out=$("$ROOT/hack/k8s/build.sh" 2>&1) || { echo "$out" >&2; return 1; }
  grep -q cached <<<"$out" && note cached
  return 0
}

# record KIND VALUE: remember a host change (once)
record() { mkdir -p "$REG/host"; grep -qxF "$2" "$REG/host/$1" 2>/dev/null || echo "$2" >>"$REG/host/$1"; }

net_up() {
  mkdir -p "$REG/host" "$LOGS"
  # /run/netns is created (and bind-mounted on itself) by the first `ip netns add`
  [ -d /run/netns ] || record created-run-netns yes
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge
    record link "$BR"
  fi
  ip link set "$BR" up
  ip addr replace "$GW_IP/24" dev "$BR"
  # leak guard: the root netns never forwards (ip_forward stays as it is: off here) and never
  # routes lab ranges to its default gateway.
  local r
  for r in "${BLACKHOLES[@]}"; do
    ip route replace blackhole "$r" metric "$BLACKHOLE_METRIC"
    record route "blackhole $r metric $BLACKHOLE_METRIC"
  done
  ext_up
}

ext_up() {
  if ! ip netns list | grep -qw "$EXT_NS"; then
    ip netns add "$EXT_NS"
    ip -n "$EXT_NS" link set lo up
    ip link add kfv-ext type veth peer name eth0 netns "$EXT_NS"
    ip link set kfv-ext master "$BR" up
    ip netns exec "$EXT_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$EXT_NS" addr add "$EXT_IP/24" dev eth0
    ip -n "$EXT_NS" link set eth0 up
  fi
  local pidf=$REG/pids/ext-netexec.pid
  if ! pid_live "$pidf" >/dev/null; then
    spawn "$pidf" "$LOGS/ext-netexec.log" ip netns exec "$EXT_NS" "$K8S_BIN/agnhost" netexec --http-port=8080 --udp-port=8081
  fi
}

# pod and service ranges -> node1 (any node's br-int + gw0 reaches every pod); replaces nothing
# of the machine's own routing: these are more specific than nothing but the blackholes.
net_routes_up() {
  local first ip r
  first=$(lab_nodes | head -1)
  [ -n "$first" ] || return 0
  ip=$(idx_ip "$(node_idx "$first")")
  for r in "${BLACKHOLES[@]}"; do
    ip route replace "$r" via "$ip" metric "$VIA_METRIC"
    record route "$r via $ip metric $VIA_METRIC"
  done
  # The host (apiserver: proxy, webhooks) reaches pods through the first node; a pod elsewhere
  # would answer straight from its own node, whose conntrack never saw the request (INVALID,
  # dropped by kube-proxy). Masquerading the host at the first node keeps both ways there.
  # (Gone with the node's netns at `down`.)
  nsx "$first" iptables -t nat -C POSTROUTING -s "$GW_IP/32" -o gw0 -j MASQUERADE 2>/dev/null ||
    nsx "$first" iptables -t nat -I POSTROUTING 1 -s "$GW_IP/32" -o gw0 -j MASQUERADE
}

net_down() {
  local pidf=$REG/pids/ext-netexec.pid p
  stop_pidfiles 3 "$pidf"
  if ip netns list 2>/dev/null | grep -qw "$EXT_NS"; then
    for p in $(ip netns pids "$EXT_NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$EXT_NS" 2>/dev/null || true
  fi
  ip link del kfv-ext 2>/dev/null || true
  local line
  if [ -f "$REG/host/route" ]; then
    while read -r line; do
      # shellcheck disable=SC2086
      [ -n "$line" ] && ip route del $line 2>/dev/null || true
    done <"$REG/host/route"
    rm -f "$REG/host/route"
  fi
  # blackholes from a lost registry: only our exact metric
  for line in "${BLACKHOLES[@]}"; do ip route del blackhole "$line" metric "$BLACKHOLE_METRIC" 2>/dev/null || true; done
  if [ -f "$REG/host/link" ]; then
    while read -r line; do [ -n "$line" ] && ip link del "$line" 2>/dev/null || true; done <"$REG/host/link"
    rm -f "$REG/host/link"
  fi
  ip link show "$BR" >/dev/null 2>&1 && ip link del "$BR" 2>/dev/null || true
  return 0
}

# host_restore: global sysctls kubelet changed, mount points the lab created, /run/netns.
host_restore() {
  local kv d
  if [ -f "$REG/host/sysctl.orig" ]; then
    while IFS= read -r kv; do [ -n "$kv" ] && sysctl -qw "$kv" || true; done <"$REG/host/sysctl.orig"
    rm -f "$REG/host/sysctl.orig"
  fi
  if [ -f "$REG/host/created-dirs" ]; then
    tac "$REG/host/created-dirs" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
    rm -f "$REG/host/created-dirs"
  fi
  if mountpoint -q "$REG/ns" 2>/dev/null; then umount "$REG/ns" 2>/dev/null || umount -l "$REG/ns" || true; fi
  if [ -f "$REG/host/created-run-netns" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    for _ in 1 2 3 4 5; do mountpoint -q /run/netns || break; umount /run/netns 2>/dev/null || sleep 0.3; done
    rmdir /run/netns 2>/dev/null || true
  fi
  rm -rf "$REG/host" "$REG/pids" "$REG/nodes" "$REG/ns" "$REG/kubefay-image" "$REG/tunnel"
  rm -f "$REG/lock.tmp"
  rm -rf "$LAB"
}

# host_snapshot: the host state `down` must restore, in a stable text form (test.sh diffs it).
host_snapshot() {
  set +o pipefail   # an empty section (no iptables rules, no processes) is not an error
  echo "## netns"; ip netns list 2>/dev/null | awk '{print $1}' | sort
  echo "## links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "## routes"; ip route show table all | grep -v '^local\|^broadcast\|proto kernel' | sort
  echo "## mounts"; awk '{print $2, $3}' /proc/self/mounts | grep -v '^/proc\|^/sys' | sort
  echo "## iptables"; iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sort
  echo "## sysctls"; for s in "${GLOBAL_SYSCTLS[@]}" net.ipv4.ip_forward; do echo "$s=$(sysctl -n "$s")"; done
  # processes that already exited but are not reaped yet (state Z) do not count
  echo "## processes"; ps -eo stat=,comm= | awk '$1 !~ /^Z/ {print $2}' | grep -E '^(etcd|kube-|kubelet|containerd|ovs|socat|agnhost|kubefay|linux\.uml)' | sort | uniq -c
  return 0
}
