// Command udpprobe measures packet loss across a disruption: `send` emits
// sequence-numbered UDP datagrams at a fixed rate, `recv` counts them and
// reports lost probes and the longest gap between two received ones.
// hack/bench-restart runs both inside pod network namespaces (nsenter).
//
//	udpprobe recv -listen :9999 -for 30s      prints one JSON line when done
//	udpprobe send -to 10.192.0.5:9999 -rate 1000 -for 30s
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
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
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "send":
		err = send(*to, *rate, *dur)
	case "recv":
		err = recv(*listen, *dur)
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
	Sent         uint64  `json:"sent"` // highest sequence number seen + 1
	Lost         uint64  `json:"lost"`
	LongestGapMS float64 `json:"longestGapMs"`
}

func recv(listen string, dur time.Duration) error {
	c, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	defer c.Close()
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
	r.Lost = r.Sent - r.Received
	return json.NewEncoder(os.Stdout).Encode(r)
}
