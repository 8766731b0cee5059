package controlplane

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopBenchEnv()
	os.Exit(code)
}
