package openflow

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// requireTool skips the test when an OVS tool is missing, or fails it under
// CI=true (CI must never skip the oracle tests).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not installed (apt-get install openvswitch-switch)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

var ofpLineRE = regexp.MustCompile(`^(OFP\w+(?: request| reply)?) \(OF1\.5\) \(xid=0x([0-9a-f]+)\):(.*)$`)

// ofpParse feeds back-to-back binary messages to `ovs-ofctl ofp-parse` and
// returns the decoded text of each message by xid (continuation lines are
// joined with "\n"). It fails the test on any decode error.
func ofpParse(t testing.TB, msgs ...[]byte) map[uint32]string {
	t.Helper()
	tool := requireTool(t, "ovs-ofctl")
	f := filepath.Join(t.TempDir(), "msgs.bin")
	var all []byte
	for _, m := range msgs {
		all = append(all, m...)
	}
	if err := os.WriteFile(f, all, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "ofp-parse", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl ofp-parse: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "decode error") || strings.Contains(string(out), "***") {
		t.Fatalf("ovs-ofctl could not decode our bytes:\n%s", out)
	}
	// A header line starts a new entry only for the next xid we sent;
	// embedded messages (bundle adds, error data) stay with their parent.
	var expect []uint32
	for _, m := range msgs {
		if h, err := ParseHeader(m); err == nil {
			expect = append(expect, h.Xid)
		}
	}
	res := map[uint32]string{}
	var cur uint32
	have := false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if m := ofpLineRE.FindStringSubmatch(line); m != nil {
			x, _ := strconv.ParseUint(m[2], 16, 32)
			if len(expect) > 0 && uint32(x) == expect[0] {
				expect = expect[1:]
				cur, have = uint32(x), true
				res[cur] = m[1] + ":" + m[3]
				continue
			}
		}
		if have {
			res[cur] += "\n" + line
		}
	}
	return res
}

// ofctlParseFlows runs `ovs-ofctl -O OpenFlow15 parse-flows` on flow texts and
// returns the flow_mod text OVS prints for each, in order.
func ofctlParseFlows(t testing.TB, flows []string) []string {
	t.Helper()
	tool := requireTool(t, "ovs-ofctl")
	f := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(f, []byte(strings.Join(flows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-O", "OpenFlow15", "parse-flows", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl parse-flows: %v\n%s", err, out)
	}
	var res []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := ofpLineRE.FindStringSubmatch(line); m != nil {
			res = append(res, strings.TrimPrefix(m[3], " "))
		}
	}
	if len(res) != len(flows) {
		t.Fatalf("parse-flows returned %d flow mods for %d flows:\n%s", len(res), len(flows), out)
	}
	return res
}
