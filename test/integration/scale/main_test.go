package scale

import (
	"fmt"
	"os"
	"testing"

	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestMain(m *testing.M) {
	// controller-runtime logs through klog, like the binaries.
	ctrllog.SetLogger(klog.NewKlogr())
	if kc := os.Getenv(envWatcher); kc != "" {
		if err := runWatcher(kc); err != nil {
			fmt.Fprintln(os.Stderr, "watcher:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
