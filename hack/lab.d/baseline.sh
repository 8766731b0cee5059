# shellcheck shell=bash
# A baseline node: a lab node whose pods are wired by the reference CNI plugins (bridge +
# host-local, with the same portmap + bandwidth chain kubefay installs) instead of kubefay, so a
# benchmark can run the same pods on both in one run (hack/bench-cni, hack/bench-pods).
# `hack/lab baseline NODE` (netdev labs). The agent DaemonSet avoids nodes with $BASELINE_LABEL
# (the lab renders the chart with that affinity); `hack/lab up` keeps a baseline node as it is.
BASELINE_LABEL=kflab.kubefay.github.com/cni
BASELINE_PLUGINS=(main/bridge ipam/host-local main/loopback meta/portmap meta/bandwidth)

# baseline_affinity: the agent's affinity (JSON) leaving baseline nodes out
baseline_affinity() {
  printf '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"%s","operator":"DoesNotExist"}]}]}}}' "$BASELINE_LABEL"
}

# baseline_nodes: the lab's nodes that run the baseline CNI
baseline_nodes() { kc get nodes -l "$BASELINE_LABEL" -o name 2>/dev/null | sed 's|^node/||'; }

# baseline_plugins: builds the reference plugins once (module containernetworking/plugins at the
# version go.mod requires, built as its own module: bridge needs packages kubefay does not); prints the dir
baseline_plugins() {
  local d=$ROOT/_output/cni-baseline p v
  mkdir -p "$d"
  v=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/containernetworking/plugins) || return 1
  for p in "${BASELINE_PLUGINS[@]}"; do
    [ -x "$d/${p#*/}" ] && continue
    (cd "$d" && GOBIN=$d CGO_ENABLED=0 GOFLAGS=-trimpath go install "github.com/containernetworking/plugins/plugins/$p@$v") >&2 || return 1
  done
  echo "$d"
}

# baseline_conflist IDX: bridge cni0 (the pods' gateway, masquerade off the node) + host-local
# over 10.250.(2*IDX).0/23, then portmap and bandwidth as in kubefay's conflist
baseline_conflist() {
  cat <<JSON
{
  "cniVersion": "1.0.0",
  "name": "baseline-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.250.$((2 * $1)).0/23"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
JSON
}

baseline_up() {
  local n=$1 idx fs plugins
  idx=$(node_idx "$n") || true
  [ -n "$idx" ] || die "no lab node $n"
  [ "$(lab_datapath)" = netdev ] || die "baseline nodes need a netdev lab (a UML node keeps its files in its guest)"
  plugins=$(baseline_plugins) || die "building the reference CNI plugins failed"
  kc label node "$n" "$BASELINE_LABEL=bridge" --overwrite >/dev/null
  kubefay_render "$("$ROOT/hack/helm.sh")" | kc apply --server-side --force-conflicts -f - >/dev/null
  wait_for 120 baseline_agent_gone "$n" || die "the kubefay agent still runs on $n"
  fs=$(node_dir "$n")/fs
  rm -f "$fs/opt-cni-bin/"*; cp "$plugins"/* "$fs/opt-cni-bin/"
  rm -f "$fs/etc-cni-net.d/"*
  baseline_conflist "$idx" >"$fs/etc-cni-net.d/10-baseline.conflist"
  wait_for 60 node_ready "$n" || die "$n not Ready with the baseline CNI"
  note "$n: bridge + host-local 10.250.$((2 * idx)).0/23"
}

baseline_agent_gone() { [ -z "$(kc -n kube-system get pods -l app=kubefay,component=agent --field-selector "spec.nodeName=$1" -o name)" ]; }
node_ready() { [ "$(kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
