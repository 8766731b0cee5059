# shellcheck shell=bash
# `make lab` demo: web pods in two subnets on both nodes, then every pod asks every other pod
# for its hostname over HTTP and the matrix is printed.
demo_up() {
  kc apply -f "$ROOT/build/examples/subnet.yaml" >/dev/null
  kc apply -f "$ROOT/build/examples/demo.yaml" >/dev/null
  kc wait --for=condition=Ready pod -l app=demo-web -A --timeout=120s >/dev/null
}

demo_show() {
  local rows src sns sname dst dns dname ip out
  rows=$(kc get pods -A -l app=demo-web -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}/{.status.podIP}{"\n"}{end}')
  echo
  kc get subnets
  echo
  local svc
  svc=$(kc -n demo get service web -o jsonpath='{.spec.clusterIP}')
  printf '%-26s %-16s -> %s\n' "from (namespace/pod)" "its IP" "HTTP /hostname of each other pod; service demo/web ($svc); external host $EXT_IP (sees which source)"
  for src in $rows; do
    IFS=/ read -r sns sname ip <<<"$src"
    out=""
    for dst in $rows; do
      [ "$dst" = "$src" ] && continue
      IFS=/ read -r dns dname _ <<<"$dst"
      local dip=${dst##*/}
      if r=$(kc exec -n "$sns" "$sname" -- curl -s -m 3 "http://$dip:8080/hostname" 2>/dev/null) && [ "$r" = "$dname" ]; then
        out+=" $dns/$dname=ok"
      else
        out+=" $dns/$dname=FAIL"
      fi
    done
    if r=$(kc exec -n "$sns" "$sname" -- curl -s -m 3 "http://$svc/hostname" 2>/dev/null) && [ -n "$r" ]; then
      out+=" service=ok($r)"
    else
      out+=" service=FAIL"
    fi
    if r=$(kc exec -n "$sns" "$sname" -- curl -s -m 3 "http://$EXT_IP:8080/clientip" 2>/dev/null) && [ -n "$r" ]; then
      out+=" external=ok(seen as ${r%:*})"
    else
      out+=" external=FAIL"
    fi
    printf '%-26s %-16s ->%s\n' "$sns/$sname" "$ip" "$out"
  done
  echo
}
