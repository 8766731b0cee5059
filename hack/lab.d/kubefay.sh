# shellcheck shell=bash
# kubefay into the lab the way a user installs it: the Helm chart rendered and applied, with the
# lab's values (its datapath and service range, the locally built image).
# A rebuilt image (same tag, new content) is imported into every node and the agent/controller
# pods are restarted, so `hack/lab up` after a code change runs the new code.
kubefay_install() {
  local tar=$IMAGES/kubefay.tar sum old="" n helm
  [ -f "$tar" ] || die "$tar missing (build/images/build.sh)"
  helm=$("$ROOT/hack/helm.sh") || die "no helm binary (hack/helm.sh)"
  sum=$(sha256sum "$tar" | cut -c1-16)
  [ -f "$REG/kubefay-image" ] && old=$(cat "$REG/kubefay-image")
  if [ "$sum" != "$old" ]; then
    for n in $(lab_nodes); do
      nsx "$n" ctr -a /run/containerd/containerd.sock -n k8s.io images import "$tar" >/dev/null
    done
  fi
  kubefay_render "$helm" | kc apply --server-side --force-conflicts -f - >/dev/null
  if [ -n "$old" ] && [ "$sum" != "$old" ]; then
    kc -n kube-system rollout restart daemonset/kubefay-agent deployment/kubefay-controller >/dev/null
    note "new image $sum, restarted"
  fi
  echo "$sum" >"$REG/kubefay-image"
  kc -n kube-system rollout status daemonset/kubefay-agent --timeout=180s >/dev/null
  kc -n kube-system rollout status deployment/kubefay-controller --timeout=180s >/dev/null
}

# lab_tunnel: the lab's overlay (hack/lab up --tunnel), vxlan unless chosen
lab_tunnel() { cat "$REG/tunnel" 2>/dev/null || echo vxlan; }

# kubefay_render HELM: the chart with the lab's values, as YAML on stdout
kubefay_render() {
  "$1" template kubefay "$ROOT/build/helm/kubefay" \
    --set datapathType="$(lab_datapath)" --set tunnelType="$(lab_tunnel)" --set "serviceCIDRs={$SVC_CIDR}" \
    --set image.repository=kubefay/kubefay,image.tag=dev,image.pullPolicy=IfNotPresent \
    --set-json "agent.affinity=$(baseline_affinity)"
}
