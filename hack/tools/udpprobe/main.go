// Command udpprobe measures packet loss across a disruption: `send` emits
// sequence-numbered UDP datagrams at a fixed rate, `recv` counts them and
// reports lost probes and the longest gap between two received ones, and how
// many of the lost ones the receiving socket itself dropped (its buffer was
// full: the receiver did not run, e.g. a starved one-CPU guest) rather than
// the network.
// hack/bench-restart runs both inside pod network namespaces (nsenter).
//
//	udpprobe recv -listen :9999 -for 32s -expect 30000   listens 32 s from the first probe, prints one JSON line
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
	"sort"
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
	dur := fs.Duration("for", 30*time.Second, "how long to send / listen (from the first probe)")
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

// send writes datagram n at start+n/rate: 8-byte big-endian sequence number,
// then the sender's clock (Unix ns) when written.
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
		binary.BigEndian.PutUint64(buf[8:], uint64(time.Now().UnixNano()))
		_, _ = c.Write(buf) // a send error (no route for a moment) is a lost probe
	}
	return nil
}

// Report is what recv prints.
type Report struct {
	Received uint64 `json:"received"`
	Sent     uint64 `json:"sent"` // -expect, or the highest sequence number seen + 1
	Lost     uint64 `json:"lost"` // after Skipped
	// Skipped: probes before the first one received, not counted as lost:
	// the receiver started late (on a slow node, exec takes a second).
	Skipped      uint64  `json:"skipped"`
	LongestGapMS float64 `json:"longestGapMs"`
	// SocketDrops: datagrams that reached the receiver's socket but found
	// its buffer full (counted by the kernel, /proc/net/udp), part of Lost.
	SocketDrops uint64 `json:"socketDrops"`
	// Holes: the longest runs of lost probes (at most maxHoles), with the
	// sender's clock of the probes around them, to line them up with logs.
	Holes []Hole `json:"holes,omitempty"`
}

// Hole is a run of consecutive lost probes.
type Hole struct {
	From  uint64 `json:"from"` // first lost sequence number
	Count uint64 `json:"count"`
	After string `json:"after"` // sent time of the probe before it (sender clock), "" at the start
	Until string `json:"until"` // sent time of the probe after it, "" at the end
}

const maxHoles = 5

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
	// listen for dur from the first probe (the sender may start seconds
	// after the receiver on a slow node), waiting at most a minute for it
	deadline := time.Now().Add(dur + time.Minute)
	seen := map[uint64]time.Time{} // sequence number -> sent at
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
		if _, dup := seen[seq]; dup {
			continue
		}
		if len(seen) == 0 {
			deadline = now.Add(dur)
		}
		if len(seen) == 0 || seq < r.Skipped {
			r.Skipped = seq
		}
		seen[seq] = time.Time{}
		if n >= 16 {
			seen[seq] = time.Unix(0, int64(binary.BigEndian.Uint64(buf[8:])))
		}
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
	r.Skipped = min(r.Skipped, r.Sent)
	r.Lost = r.Sent - r.Skipped - r.Received
	r.SocketDrops = socketDrops(port)
	r.Holes = holes(seen, r.Skipped, r.Sent, maxHoles)
	return json.NewEncoder(os.Stdout).Encode(r)
}

// holes lists the longest runs of sequence numbers in [from, sent) missing
// from seen, longest first, at most max of them.
func holes(seen map[uint64]time.Time, from, sent uint64, max int) []Hole {
	stamp := func(seq uint64, ok bool) string {
		if t := seen[seq]; ok && !t.IsZero() {
			return t.UTC().Format("15:04:05.000")
		}
		return ""
	}
	var hs []Hole
	for seq := from; seq < sent; seq++ {
		if _, ok := seen[seq]; ok {
			continue
		}
		h := Hole{From: seq, After: stamp(seq-1, seq > from)}
		for seq < sent {
			if _, ok := seen[seq]; ok {
				break
			}
			seq++
		}
		h.Count = seq - h.From
		h.Until = stamp(seq, seq < sent)
		hs = append(hs, h)
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Count > hs[j].Count })
	if len(hs) > max {
		hs = hs[:max]
	}
	return hs
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
