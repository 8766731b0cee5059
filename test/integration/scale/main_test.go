package scale

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if kc := os.Getenv(envWatcher); kc != "" {
		if err := runWatcher(kc, nodeName(0)); err != nil {
			fmt.Fprintln(os.Stderr, "watcher:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
