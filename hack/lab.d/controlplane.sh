# shellcheck shell=bash
# Control plane on loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# plus a forwarder GW_IP:6443 -> 127.0.0.1:6443 so nodes and pods reach the apiserver.
# PKI with openssl (ECDSA P-256: fast to generate on a busy 2-core machine).

CP_COMPONENTS=(etcd kube-apiserver apiserver-forwarder kube-controller-manager kube-scheduler)
cp_pidfile() { echo "$REG/pids/$1.pid"; }

# ---- PKI -----------------------------------------------------------------------------
# mkcert NAME CN [ORG] [SANS]: $PKI/NAME.{crt,key}, signed by the lab CA (kept across runs).
mkcert() {
  local name=$1 cn=$2 org=${3:-} sans=${4:-} subj
  [ -s "$PKI/$name.crt" ] && [ -s "$PKI/$name.key" ] && return 0
  subj="/CN=$cn"; [ -n "$org" ] && subj="/O=$org$subj"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}
# kubeconfig FILE SERVER CERTNAME: client-certificate kubeconfig
kubeconfig() {
  local f=$1 server=$2 n=$3
  cat >"$f.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubefay-lab
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $n
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$n.crt")
    client-key-data: $(base64 -w0 <"$PKI/$n.key")
contexts:
- name: kubefay-lab
  context: {cluster: kubefay-lab, user: $n}
current-context: kubefay-lab
EOF
  mv -f "$f.tmp" "$f"
}
pki_up() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [ ! -s "$PKI/ca.crt" ] || [ ! -s "$PKI/ca.key" ]; then
    rm -f "$PKI"/*
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=kubefay-lab-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  fi
  if [ ! -s "$PKI/sa.key" ]; then
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$PKI/sa.key"
    openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  mkcert apiserver kube-apiserver "" "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$GW_IP,IP:$KUBERNETES_SVC_IP"
  mkcert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  mkcert admin kubefay-lab-admin system:masters
  mkcert kube-controller-manager system:kube-controller-manager
  mkcert kube-scheduler system:kube-scheduler
  mkcert kube-proxy system:kube-proxy
  kubeconfig "$KUBECONFIG_FILE" "https://127.0.0.1:$APISERVER_PORT" admin
  kubeconfig "$CPD/kube-controller-manager.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" kube-controller-manager
  kubeconfig "$CPD/kube-scheduler.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" kube-scheduler
}

# port_owner PORT: pid of the process listening on TCP PORT (any address), if any
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u; }
# cp_ports_free: every control-plane port is free or held by our own component
cp_ports_free() {
  local port owner ours f p
  for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHED_PORT"; do
    for owner in $(port_owner "$port"); do
    ours=0
    for f in "$REG"/pids/*.pid; do p=$(pid_live "$f") && [ "$p" = "$owner" ] && ours=1; done
    [ $ours = 1 ] || die "TCP port $port is used by pid $owner ($(tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null | cut -c1-80)); stop it or set KFLAB_APISERVER_PORT/KFLAB_ETCD_PORT"
    done
  done
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }
component_healthy() { curl -fsSk --max-time 2 "https://127.0.0.1:$1/healthz" >/dev/null 2>&1; }

start_etcd() {
  spawn "$(cp_pidfile etcd)" "$LOGS/etcd.log" "$K8S_BIN/etcd" --name kubefay-lab --data-dir "$CPD/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kubefay-lab=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
}
start_apiserver() {
  spawn "$(cp_pidfile kube-apiserver)" "$LOGS/kube-apiserver.log" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address="$GW_IP" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SVC_CIDR" --allow-privileged=true \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --profiling=false --v=1
}
start_forwarder() {
  spawn "$(cp_pidfile apiserver-forwarder)" "$LOGS/apiserver-forwarder.log" \
    socat "TCP-LISTEN:6443,bind=$GW_IP,fork,reuseaddr" "TCP:127.0.0.1:$APISERVER_PORT"
}
start_kcm() {
  spawn "$(cp_pidfile kube-controller-manager)" "$LOGS/kube-controller-manager.log" "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$CPD/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CPD/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$CPD/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=true --leader-elect=false \
    --allocate-node-cidrs=false --service-cluster-ip-range="$SVC_CIDR" \
    --controllers='*,bootstrapsigner,tokencleaner' --profiling=false --v=1
}
start_scheduler() {
  spawn "$(cp_pidfile kube-scheduler)" "$LOGS/kube-scheduler.log" "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$CPD/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$CPD/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$CPD/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false --profiling=false --v=1
}

# ensure COMPONENT STARTFN HEALTHFN TIMEOUT: reuse the running component when it is
# healthy, otherwise stop whatever is left of it and start it again.
ensure() {
  local c=$1 start=$2 health=$3 timeout=$4 pidf p
  pidf=$(cp_pidfile "$c")
  if p=$(pid_live "$pidf") && $health; then REUSED+=("$c"); return 0; fi
  stop_pidfiles 5 "$pidf"
  $start
  local i
  for ((i = 0; i < timeout * 5; i++)); do
    $health && { STARTED+=("$c"); return 0; }
    pid_live "$pidf" >/dev/null || { tail -20 "$LOGS/$c.log" >&2; die "$c exited, log: $LOGS/$c.log"; }
    sleep 0.2
  done
  tail -20 "$LOGS/$c.log" >&2
  die "$c not healthy after ${timeout}s, log: $LOGS/$c.log"
}
forwarder_healthy() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$GW_IP:6443/readyz" >/dev/null 2>&1
}
kcm_healthy() { component_healthy "$KCM_PORT"; }
sched_healthy() { component_healthy "$SCHED_PORT"; }

cp_up() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$K8S_BIN/$b" ] || die "$K8S_BIN/$b missing (hack/k8s/build.sh)"
  done
  mkdir -p "$CPD" "$LOGS" "$REG/pids"
  cp_ports_free
  pki_up
  REUSED=(); STARTED=()
  ensure etcd start_etcd etcd_healthy 30
  ensure kube-apiserver start_apiserver apiserver_ready 90
  ensure apiserver-forwarder start_forwarder forwarder_healthy 10
  ensure kube-controller-manager start_kcm kcm_healthy 60
  ensure kube-scheduler start_scheduler sched_healthy 60
  if [ ${#STARTED[@]} = 0 ]; then note reused; elif [ ${#REUSED[@]} -gt 0 ]; then note "restarted ${STARTED[*]}"; fi
}

cp_down() {
  local c files=() fwd
  fwd=$(pid_live "$(cp_pidfile apiserver-forwarder)") || fwd=""
  # stop in one go (TERM to all, then KILL after the grace period)
  for c in "${CP_COMPONENTS[@]}"; do files+=("$(cp_pidfile "$c")"); done
  stop_pidfiles 10 "${files[@]}"
  # the forwarder's per-connection children outlive it while their peer never closes (a UML
  # node stopped abruptly leaves its half of each connection open): they share its session
  [ -z "$fwd" ] || pkill -KILL -s "$fwd" -x socat 2>/dev/null || true
  # registry lost (e.g. /run/kubefay-lab removed by hand): find our daemons by the ports
  # they listen on, and only if their executable is the lab's own binary.
  local port owner exe pids=()
  for port in "$APISERVER_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KCM_PORT" "$SCHED_PORT"; do
    for owner in $(port_owner "$port"); do
      exe=$(readlink "/proc/$owner/exe" 2>/dev/null || true)
      [[ $exe == "$K8S_BIN"/* ]] && pids+=("$owner")
    done
  done
  for owner in $(ss -Htnp "src $GW_IP:6443" 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u) \
    $(ss -Hltnp "src $GW_IP:6443" 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u); do
    [ "$(cat "/proc/$owner/comm" 2>/dev/null)" = socat ] && pids+=("$owner")
  done
  kill_pids 10 "${pids[@]}"
  rm -rf "$CPD" "$KUBECONFIG_FILE"
}

cp_status() {
  local c p
  for c in "${CP_COMPONENTS[@]}"; do
    if p=$(pid_live "$(cp_pidfile "$c")"); then printf '  %-26s running  pid %s\n' "$c" "$p"
    else printf '  %-26s stopped\n' "$c"; fi
  done
}
