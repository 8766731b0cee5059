# Runs inside a hack/uml guest as PID 1's child (from the host checkout, through hostfs):
# mounts, kernel modules, waits for uptime >= 11 s, runs $run/cmd, writes $run/rc, powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
run=$(sed -n 's/.*kfuml\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
up() { cut -d' ' -f1 /proc/uptime; }
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname kf-uml
# ipv6 first: the UML kernel has IPV6=m, and a vxlan/geneve device opens an AF_INET6 socket
# under RTNL; the implicit module load then deadlocks (ovs-vsctl and ip hang forever).
modprobe -a ipv6 openvswitch vxlan geneve veth || echo "kf-uml: modprobe failed"
# OVS 3.1: an ovs-vswitchd started before uptime 10 s creates no upcall handlers and forwards
# nothing (its CPU count is cached for the first 10 s of CLOCK_MONOTONIC). Nothing may start
# one before 11 s: the command runs only then.
echo "kf-uml: guest up at uptime $(up) s ($(uname -r)); waiting for uptime 11 s"
while [ "$(cut -d. -f1 /proc/uptime)" -lt 11 ]; do sleep 0.2; done
echo "kf-uml: running the command at uptime $(up) s"
/bin/bash "$run/cmd" </dev/null
rc=$?
echo "$rc" >"$run/rc"
echo "kf-uml: command exited $rc at uptime $(up) s"
sync
echo o >/proc/sysrq-trigger
sleep 30
