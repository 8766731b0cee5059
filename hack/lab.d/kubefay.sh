# shellcheck shell=bash
# kubefay into the lab the way a user installs it: CRDs + manifests (lab overlay: netdev datapath).
kubefay_install() {
  kc apply --server-side --force-conflicts -k "$ROOT/hack/lab.d/kustomize" >/dev/null
  kc -n kube-system rollout status daemonset/kubefay-agent --timeout=180s >/dev/null
  kc -n kube-system rollout status deployment/kubefay-controller --timeout=180s >/dev/null
}
