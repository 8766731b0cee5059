// Package e2e builds kubefay's conformance binary: the upstream Kubernetes e2e suite
// (k8s.io/kubernetes/test/e2e, same version as the lab) reduced to the networking specs.
// It keeps upstream's TestMain and suite setup but links only the sig-network test
// packages (Services, DNS, EndpointSlices, Networking, ...), the NetworkPolicy suite
// (netpol) and the common networking specs, so it compiles in a fraction of the time
// and size of the full e2e.test.
//
// Build: hack/k8s/build-e2e.sh   Run: make conformance (hack/conformance.sh)
package e2e

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"k8s.io/component-base/version"
	conformancetestdata "k8s.io/kubernetes/test/conformance/testdata"
	upstream "k8s.io/kubernetes/test/e2e"
	"k8s.io/kubernetes/test/e2e/framework"
	"k8s.io/kubernetes/test/e2e/framework/config"
	"k8s.io/kubernetes/test/e2e/framework/testfiles"
	e2etestingmanifests "k8s.io/kubernetes/test/e2e/testing-manifests"
	testfixtures "k8s.io/kubernetes/test/fixtures"

	// feature and label constants, frozen before any spec registers
	_ "k8s.io/kubernetes/test/e2e/feature"

	// the specs this binary runs
	_ "k8s.io/kubernetes/test/e2e/common/network"
	_ "k8s.io/kubernetes/test/e2e/network"
	_ "k8s.io/kubernetes/test/e2e/network/netpol"

	// framework extensions upstream's e2e.test also links
	_ "k8s.io/kubernetes/test/e2e/framework/debug/init"
	_ "k8s.io/kubernetes/test/e2e/framework/metrics/init"
	_ "k8s.io/kubernetes/test/e2e/framework/node/init"
	_ "k8s.io/kubernetes/test/utils/ktesting/format"
)

func TestMain(m *testing.M) {
	showVersion := flag.CommandLine.Bool("version", false, "print the Kubernetes version the specs come from and exit")
	config.CopyFlags(config.Flags, flag.CommandLine)
	framework.RegisterCommonFlags(flag.CommandLine)
	framework.RegisterClusterFlags(flag.CommandLine)
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Get())
		os.Exit(0)
	}
	if flag.CommandLine.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected arguments: %v\n", flag.CommandLine.Args())
		os.Exit(2)
	}
	// manifests and fixtures some specs read, embedded in the binary
	testfiles.AddFileSource(e2etestingmanifests.GetE2ETestingManifestsFS())
	testfiles.AddFileSource(testfixtures.GetTestFixturesFS())
	testfiles.AddFileSource(conformancetestdata.GetConformanceTestdataFS())
	framework.AfterReadingAllFlags(&framework.TestContext)
	os.Exit(m.Run())
}

// TestE2E runs the ginkgo suite (SynchronizedBeforeSuite and reporting come from upstream).
func TestE2E(t *testing.T) {
	upstream.RunE2ETests(t)
}
