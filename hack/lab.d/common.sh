# shellcheck shell=bash
# Settings and helpers shared by every hack/lab subcommand (sourced by hack/lab).

# ---- layout --------------------------------------------------------------------------
K8S_VERSION=$(awk '($1=="require" && $2=="k8s.io/kubernetes"){print $3} ($1=="k8s.io/kubernetes" && $2 ~ /^v/){print $2}' "$ROOT/hack/k8s/go.mod" | head -1)
K8S_BIN=$ROOT/_output/k8s/$K8S_VERSION/bin          # hack/k8s/build.sh output (cached)
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
COREDNS_BIN=$ROOT/_output/k8s/coredns-$COREDNS_VERSION/coredns
IMAGES=$ROOT/_output/images                          # docker-archive tarballs, imported into every node
LAB=$ROOT/_output/lab                                # bulky state: PKI, etcd, per-node containerd/kubelet dirs, logs
PKI=$LAB/pki
CPD=$LAB/cp
LOGS=$LAB/logs
NODESD=$LAB/nodes
KUBECONFIG_FILE=$LAB/kubeconfig
# Small registry of what the lab started and changed on the host (pids, mount-namespace files,
# created directories, saved sysctls). Kept apart from _output so that `down` still finds
# everything when _output/lab was deleted, and short so paths stay far below unix-socket limits.
REG=${KFLAB_RUN:-/run/kubefay-lab}

# ---- names and addresses -------------------------------------------------------------
PFX=kflab                         # netns kflab-<node>, kflab-ext; root veths kfv-<node>
BR=kflab0                         # Linux bridge in the root netns: the lab's "physical" L2 segment
NET=198.51.100                    # TEST-NET-2. Never 192.0.2.0/24 (this machine's own eth0 network)
GW_IP=$NET.1                      # the bridge's address: apiserver forwarder, nodes' default gateway
EXT_IP=$NET.254                   # the "external host" (not a node)
EXT_NS=$PFX-ext
SVC_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_IP=10.96.0.10
POD_RANGES=(10.128.0.0/10 10.192.0.0/11)           # where kubefay subnets live (defaultnet 10.192.0.0/16, tests 10.182.x)
BLACKHOLES=("${POD_RANGES[@]}" "$SVC_CIDR")          # never 10.0.0.0/8: the DNS resolver is 10.255.255.53
BLACKHOLE_METRIC=4000
VIA_METRIC=10
APISERVER_PORT=${KFLAB_APISERVER_PORT:-6443}
ETCD_PORT=${KFLAB_ETCD_PORT:-2379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
KCM_PORT=10257
SCHED_PORT=10259
MAX_NODES=200
DATAPATH=${KFLAB_DATAPATH:-netdev}   # of new nodes: netdev (netns nodes) or system (UML guests); up --datapath
TUNNEL=${KFLAB_TUNNEL:-}             # overlay of a new lab: vxlan (default) or geneve; up --tunnel

# host path in a node's mount namespace -> per-node directory name (under $NODESD/<node>/fs)
NODE_BINDS=(
  /etc/cni/net.d:etc-cni-net.d /opt/cni/bin:opt-cni-bin /var/lib/kubelet:var-lib-kubelet
  /var/lib/containerd:var-lib-containerd /run/containerd:run-containerd /var/lib/cni:var-lib-cni
  /var/log/pods:var-log-pods /var/log/containers:var-log-containers /run/netns:run-netns
  /etc/kubernetes:etc-kubernetes /run/openvswitch:run-openvswitch /etc/openvswitch:etc-openvswitch
  /var/log/openvswitch:var-log-openvswitch /run/kubefay:run-kubefay /var/log/kubefay:var-log-kubefay
)
# Debian: /var/run -> /run, so the binds above cover /var/run/{netns,openvswitch,kubefay}.
# Elsewhere bind the /var/run paths too.
if [ "$(readlink -f /var/run)" != /run ]; then
  NODE_BINDS+=(/var/run/netns:run-netns /var/run/openvswitch:run-openvswitch /var/run/kubefay:run-kubefay)
fi
GLOBAL_SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory)   # kubelet rewrites these (not per netns)

export PATH=$K8S_BIN:$PATH

# ---- output --------------------------------------------------------------------------
log() { echo "[lab] $*" >&2; }
warn() { echo "[lab] WARNING: $*" >&2; }
die() { echo "[lab] ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b - a}'; }

STEP_NAMES=()
STEP_TIMES=()
STEP_NOTES=()
# note TEXT: annotate the current step's summary line (e.g. "cached", "reused").
note() { mkdir -p "$REG"; echo "$*" >"$REG/.step-note"; }
# step LABEL FUNC ARGS...: run one step, print "[lab] LABEL (1.2s)" and remember it for the summary.
# The step runs as a background job so that `set -e` applies inside it (bash ignores errexit in
# functions called from an `||` list): any failing command fails the step.
step() {
  local label=$1 t0 rc=0 n=""; shift
  rm -f "$REG/.step-note"
  t0=$(now)
  log "$label ..."
  ( set -e; "$@" ) &
  wait $! || rc=$?
  [ -f "$REG/.step-note" ] && n=$(cat "$REG/.step-note")
  rm -f "$REG/.step-note"
  STEP_NAMES+=("$label"); STEP_TIMES+=("$(since "$t0")"); STEP_NOTES+=("$n")
  if [ "$rc" != 0 ]; then
    STEP_NOTES[-1]="FAILED"
    log "$label FAILED after ${STEP_TIMES[-1]}s"
    summary
    exit "$rc"
  fi
  log "$label done (${STEP_TIMES[-1]}s${n:+, $n})"
}
summary() {
  local i
  [ ${#STEP_NAMES[@]} -gt 0 ] || return 0
  printf '\n[lab] %-44s %9s  %s\n' "step" "seconds" "note" >&2
  printf '[lab] %-44s %9s  %s\n' "--------------------------------------------" "-------" "----" >&2
  for i in "${!STEP_NAMES[@]}"; do
    printf '[lab] %-44s %9s  %s\n' "${STEP_NAMES[$i]}" "${STEP_TIMES[$i]}" "${STEP_NOTES[$i]}" >&2
  done
  printf '[lab] %-44s %9s\n' "total" "$(since "$LAB_T0")" >&2
}

# ---- processes -----------------------------------------------------------------------
# Pid files hold "PID STARTTIME" so a recycled pid is never mistaken for ours.
starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
pid_record() { echo "$2 $(starttime "$2" || echo 0)" >"$1"; }
# pid_live FILE: print the pid recorded in FILE if that very process still runs.
pid_live() {
  local pid st cur state
  [ -s "$1" ] || return 1
  read -r pid st <"$1" || true
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cur=$(starttime "$pid") || return 1
  [ -z "$st" ] || [ "$st" = 0 ] || [ "$st" = "$cur" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ "$state" != Z ] || return 1
  echo "$pid"
}
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# spawn PIDFILE LOGFILE CMD...: start a daemon in its own session, detached from us
# (fd 9 is the lab lock: never inherited by daemons).
spawn() {
  local pidf=$1 logf=$2; shift 2
  mkdir -p "$(dirname "$pidf")" "$(dirname "$logf")"
  setsid "$@" </dev/null >>"$logf" 2>&1 9>&- &
  pid_record "$pidf" $!
}

# kill_pids GRACE PID...: SIGTERM all of them at once, wait up to GRACE seconds, SIGKILL the rest.
kill_pids() {
  local grace=$1 p left i; shift
  [ $# -gt 0 ] || return 0
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < grace * 10; i++)); do
    left=0; for p in "$@"; do alive "$p" && left=1; done
    [ $left = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do alive "$p" && kill -KILL "$p" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    left=0; for p in "$@"; do alive "$p" && left=1; done
    [ $left = 0 ] && return 0
    sleep 0.1
  done
  warn "still alive after SIGKILL: $*"
}
# stop_pidfile GRACE FILE...: stop the processes recorded in pid files, remove the files.
stop_pidfiles() {
  local grace=$1 f p pids=(); shift
  for f in "$@"; do p=$(pid_live "$f") && pids+=("$p"); done
  kill_pids "$grace" "${pids[@]}"
  rm -f "$@"
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

# ---- kubectl -------------------------------------------------------------------------
kc() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

# ---- nodes ---------------------------------------------------------------------------
node_ns() { echo "$PFX-$1"; }
node_veth() { echo "kfv-$1"; }
node_mntns() { echo "$REG/ns/$1"; }
node_reg() { echo "$REG/nodes/$1"; }
node_dir() { echo "$NODESD/$1"; }
node_idx() { cat "$REG/nodes/$1/idx" 2>/dev/null; }
idx_ip() { echo "$NET.$((10 + $1))"; }
idx_mac() { printf '02:00:c6:33:64:%02x' $((10 + $1)); }
# nodes registered in the lab (by registry), sorted by index
lab_nodes() {
  local d
  for d in "$REG"/nodes/*/; do [ -f "$d/idx" ] && echo "$(cat "$d/idx") $(basename "$d")"; done | sort -n | awk '{print $2}'
}
# every node that left a trace: registry, netns, mount-namespace file, state dir
all_node_traces() {
  {
    lab_nodes
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^$PFX-//p" | grep -vx ext
    ls "$REG/ns" 2>/dev/null
    ls "$NODESD" 2>/dev/null
  } | sort -u
}
# nsx NODE CMD...: run CMD inside the node (its network and mount namespaces)
nsx() {
  local n=$1; shift
  if node_uml "$n"; then uml_exec "$n" "$@"; return; fi
  nsenter --net="/run/netns/$(node_ns "$n")" --mount="$(node_mntns "$n")" -- "$@"
}
# pod_nsx NODE IP CMD...: run CMD on NODE in the network namespace that holds IP (a pod's, found
# through its sandbox's pause process)
pod_nsx() {
  local n=$1 ip=$2; shift 2
  # shellcheck disable=SC2016 # expanded on the node
  nsx "$n" sh -c 'ip=$1; shift; for p in $(pgrep -x pause); do
    if nsenter -t "$p" -n ip -4 -o addr show 2>/dev/null | grep -q " $ip/"; then exec nsenter -t "$p" -n "$@"; fi
  done; echo "no pod netns holds $ip" >&2; exit 2' sh "$ip" "$@"
}
valid_node_name() { [[ $1 =~ ^[a-z0-9]([a-z0-9-]{0,9}[a-z0-9])?$ ]] && [ "$1" != ext ]; }
