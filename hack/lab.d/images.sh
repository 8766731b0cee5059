# shellcheck shell=bash
# Container images for the lab nodes (no registry): the upstream test images under the names
# the e2e framework of this Kubernetes release expects, and kubefay's own image.
# images_up [kubefay=1]: the kubefay image is skipped with 0 (a lab without kubefay).
images_up() {
  mkdir -p "$IMAGES"
  "$ROOT/hack/images/build-lab-images.sh" "$IMAGES" "$K8S_BIN"
  if [ "${1:-1}" = 1 ]; then "$ROOT/build/images/build.sh" >/dev/null; else rm -f "$IMAGES/kubefay.tar"; fi
}
