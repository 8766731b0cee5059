#!/usr/bin/env bash
# Upstream Kubernetes conformance for kubefay, on the running lab (`hack/lab up`):
#   network  the [sig-network] [Conformance] specs
#   netpol   the NetworkPolicy suite (test/e2e/network/netpol, "Netpol" specs)
# with the e2e.test of the lab's Kubernetes version (hack/k8s/build-e2e.sh, cached) and cluster
# DNS (hack/lab dns), on parallel ginkgo processes (CONFORMANCE_PROCS; [Serial] specs run alone).
# Ends with a summary: per suite passed/failed/skipped counts, run time, and every failed spec.
# Reports (JUnit, ginkgo JSON, full log) stay in _output/conformance/<suite>/.
#
# Usage: hack/conformance.sh [SUITE...]          default: network netpol
#        hack/conformance.sh --rerun-failed      run again exactly the specs that failed last time
#                                                (into _output/conformance/rerun/)
#        hack/conformance.sh --summary           print the summary of the last run again
# Env:   E2E_FOCUS / E2E_SKIP override a single suite's regexps; E2E_ARGS adds e2e.test flags;
#        CONFORMANCE_PROCS: parallel processes (default network 2, netpol 4);
#        CONFORMANCE_OUT: report directory (default _output/conformance).
# Exit status: 0 when no spec failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${CONFORMANCE_OUT:-$ROOT/_output/conformance}
LAB_CMD=$ROOT/hack/lab
say() { echo "[conformance] $*" >&2; }
die() { echo "[conformance] ERROR: $*" >&2; exit 1; }
BAD_STATES='["failed","panicked","timedout","interrupted","aborted"]'   # ginkgo states that count as failed

# suite NAME -> "FOCUS<TAB>SKIP"
suite_regexps() {
  case $1 in
    network) printf '%s\t%s\n' '\[sig-network\].*\[Conformance\]' '\[Disruptive\]|\[Flaky\]' ;;
    netpol) printf '%s\t%s\n' '\[sig-network\] Netpol ' '\[Disruptive\]|\[Flaky\]|\[Feature:SCTPConnectivity\]' ;;
    *) die "unknown suite $1 (network, netpol)" ;;
  esac
}

# suite_procs NAME: parallel ginkgo processes (CONFORMANCE_PROCS overrides). The NetworkPolicy
# specs mostly wait (up to 10 s per probe that gives the wrong answer), so they get more.
suite_procs() {
  if [ -n "${CONFORMANCE_PROCS:-}" ]; then echo "$CONFORMANCE_PROCS"; return; fi
  case $1 in netpol) echo 4 ;; *) echo 2 ;; esac
}

# summarize DIR...: counts and failed specs of each suite's ginkgo JSON report.
summarize() {
  local d passed failed skipped secs total=0 rc=0
  echo
  printf '%-8s %7s %7s %7s %9s\n' suite passed failed skipped seconds
  for d in "$@"; do
    if [ ! -s "$d/report.json" ]; then printf '%-8s %s\n' "$(basename "$d")" "no report (run aborted?)"; rc=1; continue; fi
    # skipped = selected by the focus but skipped by the spec itself (e.g. needs a cloud provider);
    # specs outside the focus are not counted. seconds = the suite's wall time.
    read -r passed failed skipped secs < <(jq -r --argjson bad "$BAD_STATES" '
      [.[].SpecReports[] | select(.LeafNodeType == "It")] as $s
      | [($s | map(select(.State == "passed")) | length),
         ([.[].SpecReports[] | select(.State as $x | $bad | index($x))] | length),
         ($s | map(select(.State == "skipped" and ((.Failure.Message // "") != ""))) | length),
         ([.[].RunTime] | add / 1e9 | floor)] | @tsv' "$d/report.json")
    printf '%-8s %7s %7s %7s %9s\n' "$(basename "$d")" "$passed" "$failed" "$skipped" "$secs"
    [ "$failed" = 0 ] || rc=1
    total=$((total + failed))
  done
  if [ "$total" -gt 0 ]; then
    echo; echo "failed specs:"
    for d in "$@"; do failed_specs "$d" | sed "s|^|  [$(basename "$d")] |"; done
  fi
  echo
  return $rc
}

# failed_specs DIR: one line per failed spec (or failed suite setup): name -- first line of the reason
failed_specs() {
  [ -s "$1/report.json" ] || return 0
  jq -r --argjson bad "$BAD_STATES" '.[].SpecReports[] | select(.State as $x | $bad | index($x))
    | ((.ContainerHierarchyTexts + [.LeafNodeText]) | map(select(. != "")) | join(" ")) as $n
    | (if $n == "" then .LeafNodeType else $n end) + "  -- " + .State + ": "
      + ((.Failure.Message // "") | split("\n") | map(select(test("\\S"))) | .[0] // "" | .[0:160])' "$1/report.json"
}

# failed_names DIR...: exact names of the failed It specs (for --rerun-failed)
failed_names() {
  local d
  for d in "$@"; do
    [ -s "$d/report.json" ] || continue
    jq -r --argjson bad "$BAD_STATES" '.[].SpecReports[] | select(.LeafNodeType == "It")
      | select(.State as $x | $bad | index($x))
      | (.ContainerHierarchyTexts + [.LeafNodeText]) | map(select(. != "")) | join(" ")' "$d/report.json"
  done
}

# run_suite NAME FOCUS SKIP: one ginkgo run of e2e.test, reports into $OUT/NAME
run_suite() {
  local name=$1 focus=$2 skip=$3 d=$OUT/$1 t0 rc=0 procs
  procs=$(suite_procs "$name")
  rm -rf "$d"; mkdir -p "$d"
  say "suite $name ($procs process(es)): focus '$focus'${skip:+ skip '$skip'}"
  t0=$(date +%s)
  # ginkgo runs the compiled e2e.test on $procs processes ([Serial] specs alone, at the end).
  # e2e.test flags: --provider=local (no cloud), --dump-logs-on-failure=false (no cluster/log-dump
  # script here), --report-dir (JUnit). ${E2E_ARGS} is split on purpose (extra flags).
  # shellcheck disable=SC2086
  "$GINKGO" --procs="$procs" --focus="$focus" ${skip:+--skip="$skip"} --no-color -v \
    --timeout=4h --output-dir="$d" --json-report=report.json \
    "$E2E" -- --kubeconfig="$KUBECONFIG" --provider=local --report-dir="$d" \
    --dump-logs-on-failure=false --allowed-not-ready-nodes=0 ${E2E_ARGS:-} >"$d/e2e.log" 2>&1 || rc=$?
  say "suite $name: exit $rc after $(( $(date +%s) - t0 ))s (log $d/e2e.log)"
  grep -E '^(Ran |SUCCESS!|FAIL!)' "$d/e2e.log" | sed 's/^/[conformance]   /' >&2 || true
}

SUITE_DIRS=()
case ${1:-} in
  --summary)
    for s in network netpol rerun; do [ -d "$OUT/$s" ] && SUITE_DIRS+=("$OUT/$s"); done
    summarize "${SUITE_DIRS[@]}"; exit ;;
esac

command -v jq >/dev/null || die "jq missing (apt-get install jq)"
KUBECONFIG=$("$LAB_CMD" kubeconfig)
export KUBECONFIG
K8S_BIN=$ROOT/_output/k8s/$(awk '($1=="require" && $2=="k8s.io/kubernetes") {print $3} ($1=="k8s.io/kubernetes" && $2 ~ /^v/) {print $2}' "$ROOT/hack/k8s/go.mod" | head -1)/bin
export PATH=$K8S_BIN:$PATH     # specs call kubectl
[ -s "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1 \
  || die "the lab is not running: start it with 'KFLAB_DEMO=0 hack/lab up --nodes 2'"
mkdir -p "$OUT"
T0=$(date +%s)
E2E=$("$ROOT/hack/k8s/build-e2e.sh")
GINKGO=$(dirname "$E2E")/ginkgo
"$LAB_CMD" dns

if [ "${1:-}" = --rerun-failed ]; then
  mapfile -t names < <(failed_names "$OUT/network" "$OUT/netpol")
  [ ${#names[@]} -gt 0 ] || { say "nothing failed in the last run"; exit 0; }
  focus=$(printf '%s\n' "${names[@]}" | sed 's/[][\\.^$*+?(){}|/]/\\&/g' | paste -sd'|')
  say "re-running ${#names[@]} failed spec(s)"
  run_suite rerun "$focus" ""
  SUITE_DIRS=("$OUT/rerun")
else
  suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(network netpol)
  rm -rf "$OUT/rerun"
  for s in "${suites[@]}"; do
    IFS=$'\t' read -r focus skip < <(suite_regexps "$s")
    if [ ${#suites[@]} = 1 ]; then focus=${E2E_FOCUS:-$focus}; skip=${E2E_SKIP-$skip}; fi
    run_suite "$s" "$focus" "$skip"
    SUITE_DIRS+=("$OUT/$s")
  done
fi
rc=0
summarize "${SUITE_DIRS[@]}" | tee "$OUT/summary.txt" || rc=1
echo "total $(( $(date +%s) - T0 ))s; reports: ${SUITE_DIRS[*]}" | tee -a "$OUT/summary.txt"
exit $rc
