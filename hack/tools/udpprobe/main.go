// Command udpprobe measures packet loss across a disruption: `send` emits
// sequence-numbered UDP datagrams at a fixed rate, `recv` counts them and
// reports lost probes and the longest gap between two received ones, and how
// many of the lost ones the receiving socket itself dropped (its buffer was
// full: the receiver did not run, e.g. a starved one-CPU guest) rather than
// the network.
// hack/bench-restart runs both inside pod network namespaces (nsenter).
//
//	udpprobe recv -listen :9999 -for 32s -expect 30000   prints one JSON line when done
//	udpprobe send -to 10.192.0.5:9999 -rate 1000 -for 30s
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: udpprobe send|recv [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	to := fs.String("to", "", "send: destination host:port")
	listen := fs.String("listen", ":9999", "recv: address to listen on")
	rate := fs.Int("rate", 1000, "send: datagrams per second")
	dur := fs.Duration("for", 30*time.Second, "how long to send / listen")
	expect := fs.Uint64("expect", 0, "recv: probes the sender sends (so that a lost tail counts; 0: highest seen + 1)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "send":
		err = send(*to, *rate, *dur)
	case "recv":
		err = recv(*listen, *dur, *expect)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpprobe:", err)
		os.Exit(1)
	}
}

// send writes datagram n (8-byte big-endian sequence number) at start+n/rate.
func send(to string, rate int, dur time.Duration) error {
	c, err := net.Dial("udp", to)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	start := time.Now()
	total := uint64(dur.Seconds() * float64(rate))
	for n := uint64(0); n < total; n++ {
		if d := time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		binary.BigEndian.PutUint64(buf, n)
		_, _ = c.Write(buf) // a send error (no route for a moment) is a lost probe
	}
	return nil
}

// Report is what recv prints.
type Report struct {
	Received     uint64  `json:"received"`
	Sent         uint64  `json:"sent"` // -expect, or the highest sequence number seen + 1
	Lost         uint64  `json:"lost"`
	LongestGapMS float64 `json:"longestGapMs"`
	// SocketDrops: datagrams that reached the receiver's socket but found
	// its buffer full (counted by the kernel, /proc/net/udp), part of Lost.
	SocketDrops uint64 `json:"socketDrops"`
}

// rcvBuf is the receive buffer asked for (SO_RCVBUFFORCE, as root): a
// receiver that does not run for a second keeps its probes.
const rcvBuf = 16 << 20

func recv(listen string, dur time.Duration, expect uint64) error {
	c, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	if raw, err := c.(*net.UDPConn).SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvBuf)
		})
	}
	deadline := time.Now().Add(dur)
	seen := map[uint64]bool{}
	var r Report
	var last time.Time
	buf := make([]byte, 1500)
	for {
		_ = c.SetReadDeadline(deadline)
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			break // deadline
		}
		now := time.Now()
		if n < 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(buf)
		if seen[seq] {
			continue
		}
		seen[seq] = true
		r.Received++
		if seq+1 > r.Sent {
			r.Sent = seq + 1
		}
		if !last.IsZero() {
			if gap := now.Sub(last).Seconds() * 1000; gap > r.LongestGapMS {
				r.LongestGapMS = gap
			}
		}
		last = now
	}
	r.Sent = max(r.Sent, expect)
	r.Lost = r.Sent - r.Received
	r.SocketDrops = socketDrops(port)
	return json.NewEncoder(os.Stdout).Encode(r)
}

// socketDrops reads the drop counter of the UDP socket bound to port from
// /proc/net/udp (this network namespace's; the last column), 0 if not found.
func socketDrops(port int) uint64 {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 13 || !strings.HasSuffix(fields[1], want) {
			continue
		}
		n, _ := strconv.ParseUint(fields[len(fields)-1], 10, 64)
		return n
	}
	return 0
}
