# shellcheck shell=bash
# Kernel-datapath lab nodes (hack/lab up --datapath=system): each node is a User-Mode Linux guest
# (hack/uml; Debian's UML kernel has openvswitch.ko, vxlan, geneve) on tap kfu-<node>, a port of
# the lab bridge. Inside: OVS with the kernel datapath, containerd, kubelet, kube-proxy
# (hack/uml.d/node.sh). The host writes the node's configs into its node directory, which the
# guest reads through hostfs; `hack/lab exec` reaches the guest through the same directory.

node_uml() { [ -f "$(node_reg "$1")/uml" ]; }
node_tap() { echo "kfu-$1"; }
UML_NODE_MEM=${KFLAB_UML_MEM:-3072}   # MiB of guest RAM (a file in /dev/shm; only touched pages count)

# uml_node_start NODE IDX: write the node's configs, boot its guest (hack/lab up waits for it with
# uml_node_wait: guests boot in parallel, ~50 s each, mostly the guest's OVS start delay and
# image imports)
uml_node_start() {
  local n=$1 idx=$2 d tap
  d=$(node_dir "$n"); tap=$(node_tap "$n")
  mkdir -p "$(node_reg "$n")/pids" "$d/logs" "$d/fs"
  echo "$idx" >"$(node_reg "$n")/idx"
  touch "$(node_reg "$n")/uml"
  node_containerd_conf "$n"
  node_kubelet_conf "$n" "$idx" /
  node_kube_proxy_conf "$n"
  cat >"$d/node.env" <<ENV
NODE=$n
IP=$(idx_ip "$idx")
GW=$GW_IP
K8S_BIN=$K8S_BIN
IMAGES=$IMAGES
ENV
  rm -f "$d/up"
  ip link del "$tap" 2>/dev/null || true
  ip tuntap add "$tap" mode tap
  # a long queue: the guest is a process on a shared host, a burst must wait for it to run, not drop
  ip link set "$tap" master "$BR" txqueuelen 10000 up
  spawn "$(node_pidfile "$n" uml)" "$(node_log "$n" console)" \
    "$ROOT/hack/uml" run --mem "$UML_NODE_MEM" --timeout 2592000 --tap "$tap,mac=$(idx_mac "$idx")" \
    -- /bin/bash "$ROOT/hack/uml.d/node.sh" "$d"
}

uml_node_wait() {
  local n=$1 d
  d=$(node_dir "$n")
  wait_for 240 test -f "$d/up" || die "UML node $n did not come up: $(tail -20 "$(node_log "$n" console)")"
  wait_for 120 kc get node "$n" || die "node $n did not register: $(tail -20 "$(node_log "$n" kubelet)")"
}

# uml_nodes_boot N: start the guests of node1..nodeN that are not up or booting
uml_nodes_boot() {
  local i n
  for ((i = 1; i <= $1; i++)); do
    n=node$i
    node_healthy "$n" && [ "$(node_idx "$n")" = "$i" ] && continue
    uml_node_booting "$n" && [ "$(node_idx "$n")" = "$i" ] && continue
    node_down "$n" >/dev/null 2>&1 || true
    uml_node_start "$n" "$i"
  done
}
uml_node_booting() { node_uml "$1" && pid_live "$(node_pidfile "$1" uml)" >/dev/null && [ ! -f "$(node_dir "$1")/up" ]; }

uml_node_healthy() {
  local n=$1
  pid_live "$(node_pidfile "$n" uml)" >/dev/null && [ -f "$(node_dir "$n")/up" ] && uml_exec "$n" true
}

# uml_node_down NODE: the hack/uml process stops its guest on SIGTERM (EXIT trap).
uml_node_down() {
  local n=$1
  stop_pidfiles 20 "$(node_pidfile "$n" uml)"
  ip link del "$(node_tap "$n")" 2>/dev/null || true
}

# uml_exec NODE CMD...: run CMD in the guest (as root, its namespaces), relaying stdout, stderr
# and the exit status. No stdin.
uml_exec() {
  local n=$1 dir id rc; shift
  dir=$(node_dir "$n")/exec
  [ -d "$dir" ] || { warn "node $n serves no exec (not up?)"; return 125; }
  id=$(mktemp -u "$dir/XXXXXXXX")
  printf '%q ' "$@" >"$id.tmp"; echo >>"$id.tmp"
  mv "$id.tmp" "$id.cmd"
  while [ ! -f "$id.rc" ]; do
    pid_live "$(node_pidfile "$n" uml)" >/dev/null || { rm -f "$id".*; warn "node $n stopped"; return 125; }
    sleep 0.05
  done
  cat "$id.out"; cat "$id.err" >&2
  rc=$(cat "$id.rc"); rm -f "$id".*
  return "$rc"
}

# uml_daemon NODE restart-ovs|kill-ovs|restart-ovsdb|rejoin: the lab's drills, done by node.sh in
# the guest. From a fresh copy: the guest's hostfs caches files it read, an edited node.sh may
# read as its old self there.
uml_daemon() {
  local d rc=0
  d=$(node_dir "$1"); cp "$ROOT/hack/uml.d/node.sh" "$d/exec/node-$$.sh"
  uml_exec "$1" /bin/bash "$d/exec/node-$$.sh" "$d" "$2" || rc=$?
  rm -f "$d/exec/node-$$.sh"
  return "$rc"
}

uml_image_up() { "$ROOT/hack/uml" deps && "$ROOT/hack/uml" rootfs >/dev/null; }

# lab_datapath: the datapath of the lab's nodes (its first node decides; none yet: netdev)
lab_datapath() {
  local n
  n=$(lab_nodes | head -1)
  if [ -n "$n" ] && node_uml "$n"; then echo system; else echo netdev; fi
}
