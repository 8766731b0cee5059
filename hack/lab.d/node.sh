# shellcheck shell=bash
# One lab node = network namespace kflab-<node> + a persistent mount namespace whose binds give
# the node its own /etc/cni/net.d, /opt/cni/bin, /var/lib/kubelet, /run/openvswitch, /run/netns …
# Inside it: ovsdb-server + ovs-vswitchd (netdev), br-phy holding the node IP over the underlay
# port ul0 (userspace tunnels need the endpoint IP on an OVS bridge), containerd, kubelet,
# kube-proxy (iptables mode).

SANDBOX_IMAGE=registry.k8s.io/pause:3.10.2
NODE_DAEMONS=(kube-proxy kubelet containerd ovs-vswitchd ovsdb-server)
node_pidfile() { echo "$(node_reg "$1")/pids/$2.pid"; }
node_log() { echo "$(node_dir "$1")/logs/$2.log"; }

# mkdir_track DIR: mkdir -p, recording every directory created (top-down) for host_restore
mkdir_track() {
  local d=$1 missing=() m
  while [ ! -d "$d" ]; do missing=("$d" "${missing[@]}"); d=$(dirname "$d"); done
  for m in "${missing[@]}"; do mkdir "$m"; record created-dirs "$m"; done
}

node_healthy() {
  local n=$1 d
  if [ "$DATAPATH" = system ]; then node_uml "$n" && uml_node_healthy "$n"; return; fi
  node_uml "$n" && return 1
  for d in "${NODE_DAEMONS[@]}"; do pid_live "$(node_pidfile "$n" "$d")" >/dev/null || return 1; done
  [ -e "/run/netns/$(node_ns "$n")" ] && [ -e "$(node_mntns "$n")" ]
}

node_up() {
  local n=$1 idx=$2
  valid_node_name "$n" || die "bad node name $n"
  if node_healthy "$n" && [ "$(node_idx "$n")" = "$idx" ]; then note reused; return 0; fi
  if [ "$DATAPATH" = system ] && uml_node_booting "$n" && [ "$(node_idx "$n")" = "$idx" ]; then uml_node_wait "$n"; return; fi
  node_down "$n" >/dev/null 2>&1 || true
  mkdir -p "$(node_reg "$n")/pids" "$(node_dir "$n")/logs" "$(node_dir "$n")/fs"
  echo "$idx" >"$(node_reg "$n")/idx"
  if [ "$DATAPATH" = system ]; then uml_node_start "$n" "$idx"; uml_node_wait "$n"; return; fi
  [ -f "$REG/host/sysctl.orig" ] || for s in "${GLOBAL_SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done >"$REG/host/sysctl.orig"
  node_netns_up "$n" "$idx"
  node_mntns_up "$n"
  node_ovs_up "$n" "$idx"
  node_containerd_up "$n"
  node_kubelet_up "$n" "$idx"
  node_kube_proxy_up "$n"
  wait_for 120 kc get node "$n" || die "node $n did not register: $(node_log "$n" kubelet)"
}

node_netns_up() {
  local n=$1 idx=$2 ns veth
  ns=$(node_ns "$n"); veth=$(node_veth "$n")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$veth" type veth peer name ul0 netns "$ns"
  ip link set "$veth" master "$BR" up
  ip -n "$ns" link set ul0 arp off up
  # the userspace datapath reads frames with AF_PACKET and never completes partial checksums:
  # no TX checksum offload on either end of the node's NIC (OVS-LAB pitfall 3)
  ethtool -K "$veth" tx off >/dev/null
  ip netns exec "$ns" ethtool -K ul0 tx off >/dev/null
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
}

node_mntns_up() {
  local n=$1 b dst src fs
  mkdir -p "$REG/ns"
  if ! mountpoint -q "$REG/ns"; then mount --bind "$REG/ns" "$REG/ns"; mount --make-private "$REG/ns"; fi
  touch "$(node_mntns "$n")"
  unshare --mount="$(node_mntns "$n")" --propagation slave true
  fs=$(node_dir "$n")/fs
  for b in "${NODE_BINDS[@]}"; do
    dst=${b%%:*}; src=$fs/${b#*:}
    mkdir -p "$src"
    # the (empty) mount point exists on the host, shared by all nodes; removed by host_restore
    mkdir_track "$dst"
    nsx "$n" mount --bind "$src" "$dst"
  done
  # like a systemd host: mounts are shared, so mountPropagation (HostToContainer, e.g. the agent's
  # view of /var/run/netns) works for pods of this node
  nsx "$n" mount --make-rshared /
}

vsctl() { local n=$1; shift; nsx "$n" ovs-vsctl --timeout=30 "$@"; }

node_ovs_up() {
  local n=$1 idx=$2 ip
  ip=$(idx_ip "$idx")
  nsx "$n" ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
  ovsdb_server_start "$n"
  vsctl "$n" --no-wait init
  ovs_vswitchd_start "$n"
  # br-phy: the node's NIC (ul0) as an OVS port; the node IP on br-phy's LOCAL port
  vsctl "$n" --may-exist add-br br-phy -- set bridge br-phy datapath_type=netdev \
    other_config:hwaddr="\"$(idx_mac "$idx")\"" -- --may-exist add-port br-phy ul0
  ip -n "$(node_ns "$n")" addr replace "$ip/24" dev br-phy
  ip -n "$(node_ns "$n")" link set br-phy up
  ip -n "$(node_ns "$n")" route replace default via "$GW_IP"
}

ovsdb_server_start() {
  local n=$1
  spawn "$(node_pidfile "$n" ovsdb-server)" "$(node_log "$n" ovsdb-server)" \
    nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- \
    ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock \
    --pidfile=/run/openvswitch/ovsdb-server.pid --unixctl=/run/openvswitch/ovsdb-server.ctl \
    -vconsole:off --log-file=/var/log/openvswitch/ovsdb-server.log --no-chdir
  wait_for 20 test -S "$(node_dir "$n")/fs/run-openvswitch/db.sock" || die "ovsdb-server[$n] did not start"
}

# A node rejoining after its Node object was deleted: kubelet registers it again, kube-proxy
# (which stops following a Node that went away) starts afresh.
node_rejoin() {
  local n=$1
  if node_uml "$n"; then
    uml_daemon "$n" rejoin
  else
    stop_pidfiles 10 "$(node_pidfile "$n" kubelet)" "$(node_pidfile "$n" kube-proxy)"
    node_kubelet_up "$n" "$(node_idx "$n")"
    node_kube_proxy_up "$n"
  fi
  wait_for 120 kc get node "$n" || die "node $n did not register again: $(node_log "$n" kubelet)"
}

# Restart ovsdb-server alone (crash drill): ovs-vswitchd and the agent reconnect.
ovsdb_restart() {
  local n=$1
  if node_uml "$n"; then uml_daemon "$n" restart-ovsdb; return; fi
  stop_pidfiles 10 "$(node_pidfile "$n" ovsdb-server)"
  rm -f "$(node_dir "$n")/fs/run-openvswitch/db.sock" "$(node_dir "$n")/fs/run-openvswitch/ovsdb-server.ctl"
  ovsdb_server_start "$n"
}

ovs_vswitchd_start() {
  local n=$1
  spawn "$(node_pidfile "$n" ovs-vswitchd)" "$(node_log "$n" ovs-vswitchd)" \
    nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- \
    ovs-vswitchd unix:/run/openvswitch/db.sock \
    --pidfile=/run/openvswitch/ovs-vswitchd.pid --unixctl=/run/openvswitch/ovs-vswitchd.ctl \
    -vconsole:off --log-file=/var/log/openvswitch/ovs-vswitchd.log --no-chdir
  wait_for 20 test -S "$(node_dir "$n")/fs/run-openvswitch/ovs-vswitchd.ctl" || die "ovs-vswitchd[$n] did not start"
}

# Restart the way a production node should: with flow-restore-wait set, a (kernel-datapath)
# vswitchd keeps forwarding on its datapath flows until the kubefay agent has re-installed
# br-int's flows and clears the flag. HOW: exit (graceful, `ovs-appctl exit` as ovs-ctl and
# systemd stop it) or kill (kill -9, a crash).
ovs_restart() {
  local n=$1 how=${2:-exit} pid
  if node_uml "$n"; then
    if [ "$how" = kill ]; then uml_daemon "$n" kill-ovs; else uml_daemon "$n" restart-ovs; fi
    return
  fi
  if vsctl "$n" br-exists br-int; then
    vsctl "$n" --no-wait set Open_vSwitch . other_config:flow-restore-wait=true
  fi
  pid=$(pid_live "$(node_pidfile "$n" ovs-vswitchd)") || pid=""
  if [ -n "$pid" ]; then
    if [ "$how" = kill ]; then kill -9 "$pid"; else nsx "$n" ovs-appctl -T 10 -t /run/openvswitch/ovs-vswitchd.ctl exit || kill "$pid"; fi
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
  fi
  stop_pidfiles 10 "$(node_pidfile "$n" ovs-vswitchd)"
  rm -f "$(node_dir "$n")/fs/run-openvswitch/ovs-vswitchd.ctl"
  ovs_vswitchd_start "$n"
}

# node_containerd_conf NODE: the node's containerd config (also read by UML nodes)
node_containerd_conf() {
  local n=$1 fs
  fs=$(node_dir "$n")/fs
  mkdir -p "$fs/etc-kubernetes"
  cat >"$fs/etc-kubernetes/containerd.toml" <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "/run/containerd/containerd.sock"
[ttrpc]
  address = "/run/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
TOML
}

node_containerd_up() {
  local n=$1 fs t
  fs=$(node_dir "$n")/fs
  node_containerd_conf "$n"
  spawn "$(node_pidfile "$n" containerd)" "$(node_log "$n" containerd)" \
    nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- \
    containerd --config /etc/kubernetes/containerd.toml
  wait_for 20 test -S "$fs/run-containerd/containerd.sock" || die "containerd[$n] did not start: $(node_log "$n" containerd)"
  for t in "$IMAGES"/*.tar; do
    [ -f "$t" ] || continue
    nsx "$n" ctr -a /run/containerd/containerd.sock -n k8s.io images import "$t" >/dev/null \
      || die "import $t into $n failed"
  done
}

# node_kubelet_conf NODE IDX CGROUP_ROOT: certificates, kubeconfigs and the kubelet config
node_kubelet_conf() {
  local n=$1 idx=$2 cgroot=$3 fs ip
  fs=$(node_dir "$n")/fs; ip=$(idx_ip "$idx")
  mkdir -p "$fs/etc-kubernetes"
  mkcert "kubelet-$n" "system:node:$n" system:nodes
  kubeconfig "$fs/etc-kubernetes/kubelet.conf" "https://$GW_IP:6443" "kubelet-$n"
  kubeconfig "$fs/etc-kubernetes/kube-proxy.conf" "https://$GW_IP:6443" kube-proxy
  cp "$PKI/ca.crt" "$fs/etc-kubernetes/ca.crt"
  cat >"$fs/etc-kubernetes/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $cgroot
failSwapOn: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: $ip
healthzBindAddress: 127.0.0.1
healthzPort: 0
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: /etc/kubernetes/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
maxPods: 270
YAML
}

node_kubelet_up() {
  local n=$1 idx=$2 ip c
  ip=$(idx_ip "$idx")
  for c in /sys/fs/cgroup/*/; do [ -L "${c%/}" ] || mkdir -p "$c/$PFX-$n" 2>/dev/null || true; done
  node_kubelet_conf "$n" "$idx" "/$PFX-$n"
  spawn "$(node_pidfile "$n" kubelet)" "$(node_log "$n" kubelet)" \
    nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- \
    "$K8S_BIN/kubelet" --config=/etc/kubernetes/kubelet.yaml --kubeconfig=/etc/kubernetes/kubelet.conf \
    --hostname-override="$n" --node-ip="$ip" --v=1
}

node_kube_proxy_conf() {
  local n=$1 fs
  fs=$(node_dir "$n")/fs
  cat >"$fs/etc-kubernetes/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: /etc/kubernetes/kube-proxy.conf}
mode: iptables
hostnameOverride: $n
clusterCIDR: 10.128.0.0/9
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
}

node_kube_proxy_up() {
  local n=$1
  node_kube_proxy_conf "$n"
  spawn "$(node_pidfile "$n" kube-proxy)" "$(node_log "$n" kube-proxy)" \
    nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- \
    "$K8S_BIN/kube-proxy" --config=/etc/kubernetes/kube-proxy.yaml --v=1
}

node_down() {
  local n=$1 d reg ns mnt mntid p f files=()
  reg=$(node_reg "$n"); d=$(node_dir "$n"); ns=$(node_ns "$n"); mnt=$(node_mntns "$n")
  if [ -s "$KUBECONFIG_FILE" ] && apiserver_ready; then kc delete node "$n" --wait=false >/dev/null 2>&1 || true; fi
  uml_node_down "$n"
  stop_pidfiles 10 "$(node_pidfile "$n" kube-proxy)" "$(node_pidfile "$n" kubelet)"
  # pod containers first (their shims are not children of containerd)
  if [ -S "$d/fs/run-containerd/containerd.sock" ] && [ -e "$mnt" ]; then
    for p in $(nsx "$n" ctr -a /run/containerd/containerd.sock -n k8s.io tasks ls -q 2>/dev/null); do
      nsx "$n" ctr -a /run/containerd/containerd.sock -n k8s.io tasks kill -s KILL "$p" >/dev/null 2>&1 || true
    done
  fi
  for f in containerd ovs-vswitchd ovsdb-server; do files+=("$(node_pidfile "$n" "$f")"); done
  stop_pidfiles 10 "${files[@]}"
  # whatever is left of this node: processes in its netns or its mount namespace
  mntid=""; [ -e "$mnt" ] && mntid="mnt:[$(stat -L -c %i "$mnt" 2>/dev/null)]"
  if [ -e "/run/netns/$ns" ]; then for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done; fi
  if [ -n "$mntid" ] && [ "$mntid" != "mnt:[]" ]; then
    for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mntid" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true; done
  fi
  for f in $(find /sys/fs/cgroup/pids/"$PFX-$n" -name cgroup.procs 2>/dev/null); do
    for p in $(cat "$f"); do kill -KILL "$p" 2>/dev/null || true; done
  done
  sleep 0.3
  if [ -e "$mnt" ] && mountpoint -q "$REG/ns" 2>/dev/null; then
    # overlay/shm/netns mounts made inside the node, then the binds, then the ns file itself
    nsenter --mount="$mnt" -- sh -c 'awk "{print \$2}" /proc/self/mounts | grep -E "^/(var/lib/kubelet|run/containerd|var/lib/containerd|run/netns|run/openvswitch|run/kubefay)" | sort -r | while read m; do umount -l "$m" 2>/dev/null; done' || true
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  fi
  rm -f "$mnt"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$(node_veth "$n")" 2>/dev/null || true
  for p in /sys/fs/cgroup/*/"$PFX-$n"; do [ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
  rm -rf "$d" "$reg"
  return 0
}

node_status() {
  local n=$1 dm p line
  line="  $n ($(idx_ip "$(node_idx "$n")")):"
  if node_uml "$n"; then
    if p=$(pid_live "$(node_pidfile "$n" uml)"); then line+=" UML guest (hack/uml run pid $p)"; else line+=" UML guest STOPPED"; fi
    echo "$line"; return
  fi
  for dm in "${NODE_DAEMONS[@]}"; do
    if p=$(pid_live "$(node_pidfile "$n" "$dm")"); then line+=" $dm=$p"; else line+=" $dm=STOPPED"; fi
  done
  echo "$line"
}

nodes_ready() {
  local timeout=$1
  kc wait --for=condition=Ready nodes --all --timeout="${timeout}s" >/dev/null || {
    kc get nodes -o wide >&2; kc get pods -A -o wide >&2; return 1; }
}
