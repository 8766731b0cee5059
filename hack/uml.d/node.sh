#!/bin/bash
# Runs inside a hack/uml guest (hack/lab up --datapath=system): the guest as a lab node.
#   node.sh CONF_DIR [boot]        set the node up, then serve hack/lab exec until the guest stops
#   node.sh CONF_DIR restart-ovs   restart ovs-vswitchd with flow-restore-wait (graceful exit)
#   node.sh CONF_DIR kill-ovs      the same after kill -9 (crash drill)
#   node.sh CONF_DIR restart-ovsdb restart ovsdb-server
#   node.sh CONF_DIR rejoin        restart kubelet and kube-proxy
# CONF_DIR (the host's node directory, through hostfs) holds node.env (NODE, IP, GW, K8S_BIN,
# IMAGES) and fs/etc-kubernetes (configs, certificates, kubeconfigs) written by hack/lab.
# Daemons log to CONF_DIR/logs; the guest's writable state lives in its RAM and COW file.
set -uo pipefail
conf=$1
. "$conf/node.env"
logs=$conf/logs
say() { echo "kf-node[$NODE]: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

# running PID: alive and not a zombie (orphans are reaped late by the guest's PID 1)
running() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# stop PIDFILE: TERM, then KILL after 10 s
stop() {
  local p
  p=$(cat "$1" 2>/dev/null) || return 0
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 100); do running "$p" || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}
# daemon NAME CMD...: start CMD detached, pid in /run/NAME.pid, output in CONF_DIR/logs/NAME.log
daemon() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$logs/$name.log" 2>&1 &
  echo $! >"/run/$name.pid"
}

ovsdb_up() {
  ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock \
    --pidfile=/run/openvswitch/ovsdb-server.pid --unixctl=/run/openvswitch/ovsdb-server.ctl \
    -vconsole:off --log-file="$logs/ovsdb-server.log" --no-chdir --detach
}
vswitchd_up() {
  ovs-vswitchd unix:/run/openvswitch/db.sock --pidfile=/run/openvswitch/ovs-vswitchd.pid \
    --unixctl=/run/openvswitch/ovs-vswitchd.ctl -vconsole:off --log-file="$logs/ovs-vswitchd.log" \
    --no-chdir --detach
}
kubelet_up() {
  daemon kubelet "$K8S_BIN/kubelet" --config=/etc/kubernetes/kubelet.yaml \
    --kubeconfig=/etc/kubernetes/kubelet.conf --hostname-override="$NODE" --node-ip="$IP" --v=1
  daemon kube-proxy "$K8S_BIN/kube-proxy" --config=/etc/kubernetes/kube-proxy.yaml --v=1
}

network_up() {
  local nic
  nic=$(ls /sys/class/net | grep -m1 '^vec') || { say "no NIC"; exit 1; }
  ip link set "$nic" name eth0
  ip addr add "$IP/24" dev eth0
  ip link set eth0 up
  ip route add default via "$GW"
  hostname "$NODE"
  echo "$IP $NODE" >>/etc/hosts
  echo "$NODE" | md5sum | cut -c1-32 >/etc/machine-id
  sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 vm.overcommit_memory=1 \
    kernel.panic=10 kernel.panic_on_oops=1
  modprobe -a overlay br_netfilter nf_conntrack tun ip_tables iptable_nat iptable_filter \
    nft_compat nft_chain_nat xt_conntrack xt_comment xt_mark xt_nat xt_statistic xt_addrtype \
    xt_MASQUERADE nf_nat 2>/dev/null || say "some netfilter modules are missing"
}

fs_up() {
  local d
  for d in /var/lib/containerd /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni \
    /etc/cni/net.d /opt/cni/bin /etc/openvswitch /run/openvswitch /var/log/kubefay /run/kubefay \
    /etc/kubernetes; do
    mkdir -p "$d"
  done
  mount -t tmpfs -o size=2g tmpfs /var/lib/containerd   # overlayfs upper dirs: not on the 1 GiB image
  mount --make-rshared /
  cp "$conf"/fs/etc-kubernetes/* /etc/kubernetes/
  # cadvisor (in kubelet) wants the clock speed from /proc/cpuinfo, which UML does not print
  sed 's/^bogomips\t: \(.*\)/cpu MHz\t\t: \1\n&/' /proc/cpuinfo >/run/cpuinfo
  mount --bind /run/cpuinfo /proc/cpuinfo
  # cgroup v2: hand the controllers kubelet uses to its subtree
  for d in cpu memory pids io cpuset hugetlb; do
    grep -qw "$d" /sys/fs/cgroup/cgroup.controllers && echo "+$d" >/sys/fs/cgroup/cgroup.subtree_control
  done
}

# serve: the host drops ID.cmd (a bash script) into CONF_DIR/exec; it runs here in the background
# with ID.out/ID.err, then ID.rc appears. hostfs is the channel: the guest needs no sshd.
serve() {
  local f id
  mkdir -p "$conf/exec"
  rm -f "$conf"/exec/*
  touch "$conf/up"
  while :; do
    for f in "$conf"/exec/*.cmd; do
      [ -e "$f" ] || continue
      id=${f%.cmd}
      mv "$f" "$id.run" || continue
      (bash "$id.run" >"$id.out" 2>"$id.err" </dev/null; echo $? >"$id.rc.tmp"; mv "$id.rc.tmp" "$id.rc") &
    done
    sleep 0.1
  done
}

boot() {
  local t
  mkdir -p "$logs"
  network_up
  fs_up
  ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
  ovsdb_up
  ovs-vsctl --no-wait init
  vswitchd_up
  daemon containerd containerd --config /etc/kubernetes/containerd.toml
  for _ in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
  for t in "$IMAGES"/*.tar; do
    ctr -a /run/containerd/containerd.sock -n k8s.io images import "$t" >/dev/null || say "import $t failed"
  done
  kubelet_up
  say "up at uptime $(up) s"
  serve
}

case ${2:-boot} in
  boot) boot ;;
  restart-ovs|kill-ovs)
    # like hack/lab restart-ovs on netdev nodes: the kernel keeps forwarding on its datapath flows
    # until the agent has re-installed br-int's flows and cleared the flag. restart: a graceful
    # exit (ovs-appctl exit, as ovs-ctl and systemd do);
    # kill: SIGKILL (a crash)
    if ovs-vsctl --timeout=30 br-exists br-int; then
      ovs-vsctl --timeout=30 --no-wait set Open_vSwitch . other_config:flow-restore-wait=true
    fi
    pid=$(cat /run/openvswitch/ovs-vswitchd.pid)
    if [ "$2" = kill-ovs ]; then kill -9 "$pid"; else ovs-appctl -T 10 -t /run/openvswitch/ovs-vswitchd.ctl exit || kill "$pid"; fi
    for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
    rm -f /run/openvswitch/ovs-vswitchd.ctl
    vswitchd_up ;;
  restart-ovsdb)
    stop /run/openvswitch/ovsdb-server.pid
    rm -f /run/openvswitch/db.sock /run/openvswitch/ovsdb-server.ctl
    ovsdb_up ;;
  rejoin) stop /run/kubelet.pid; stop /run/kube-proxy.pid; kubelet_up ;;
  *) echo "node.sh: unknown command $2" >&2; exit 2 ;;
esac
