# shellcheck shell=bash
# Cluster DNS for the lab (not part of `hack/lab up`; `hack/lab dns` or `make conformance`):
# CoreDNS as Deployment coredns + Service kube-dns at $DNS_IP, the address every kubelet hands
# to pods (clusterDNS in node.sh). CoreDNS is built from the Go module proxy and packaged as a
# docker-archive image by hack/images/build-lab-images.sh, both cached under _output.
# The Corefile answers cluster.local (and reverse zones) only: no `forward`, so no query ever
# leaves the machine; other names get SERVFAIL.

COREDNS_TAG=registry.k8s.io/coredns/coredns:$COREDNS_VERSION

# coredns_bin: build $COREDNS_BIN once (go install from the proxy, ~2 min cold).
coredns_bin() {
  [ -x "$COREDNS_BIN" ] && return 0
  local d t0
  d=$(dirname "$COREDNS_BIN"); mkdir -p "$d"; t0=$(now)
  log "building coredns $COREDNS_VERSION from the module proxy"
  (cd "$d" && GOBIN=$d CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags '-s -w' \
    "github.com/coredns/coredns@$COREDNS_VERSION")
  note "coredns built in $(since "$t0")s"
}

# dns_image_import: build coredns.tar if needed, import it into every node that has not got
# this very tarball yet (a marker per node; a node created later imports it in node_up).
dns_image_import() {
  local n mark
  COREDNS_TAG=$COREDNS_TAG "$ROOT/hack/images/build-lab-images.sh" "$IMAGES" "$K8S_BIN" "$COREDNS_BIN"
  for n in $(lab_nodes); do
    mark=$(node_reg "$n")/coredns-imported
    [ -f "$mark" ] && [ "$mark" -nt "$IMAGES/coredns.tar" ] && continue
    nsx "$n" ctr -a /run/containerd/containerd.sock -n k8s.io images import "$IMAGES/coredns.tar" >/dev/null
    touch "$mark"
  done
}

# dns_manifest: the objects, as YAML on stdout.
dns_manifest() {
  cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 5
        }
        cache 5
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      priorityClassName: system-cluster-critical
      containers:
      - name: coredns
        image: $COREDNS_TAG
        imagePullPolicy: Never
        args: ["-conf", "/etc/coredns/Corefile"]
        ports:
        - {containerPort: 53, protocol: UDP, name: dns}
        - {containerPort: 53, protocol: TCP, name: dns-tcp}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10, failureThreshold: 5}
        resources: {requests: {cpu: 10m, memory: 32Mi}}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
YAML
}

# dns_up: CoreDNS running and Ready (idempotent; a changed Corefile restarts it).
dns_up() {
  coredns_bin
  dns_image_import
  local out
  out=$(dns_manifest | kc apply -f -)
  if grep -q 'configmap/coredns configured' <<<"$out"; then
    kc -n kube-system rollout restart deployment/coredns >/dev/null
  fi
  kc -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null \
    || die "coredns not ready: $(kc -n kube-system get pods -l k8s-app=kube-dns -o wide 2>&1)"
  [ -z "$(cat "$REG/.step-note" 2>/dev/null)" ] && note "$DNS_IP"
  return 0
}

# dns_down: remove CoreDNS (the image stays in the nodes).
dns_down() {
  dns_manifest | kc delete --ignore-not-found -f - >/dev/null
}
