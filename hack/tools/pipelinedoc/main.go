// Command pipelinedoc writes the README's pipeline table from the pipeline
// declaration (pkg/agent/pipeline: tables.go, priorities.go): `make docs`.
//
//	go run ./hack/tools/pipelinedoc [-verify] [README.md]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

func main() {
	verify := flag.Bool("verify", false, "fail if the file's table differs instead of rewriting it")
	flag.Parse()
	path := "README.md"
	if flag.NArg() > 0 {
		path = flag.Arg(0)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	doc, ok := pipeline.ReplaceMarkdownTable(string(old))
	if !ok {
		fail(fmt.Errorf("%s has no pipeline table markers (%s ... %s)", path, pipeline.MarkdownBegin, pipeline.MarkdownEnd))
	}
	switch {
	case doc == string(old):
		fmt.Println(path + ": pipeline table up to date")
	case *verify:
		fail(fmt.Errorf("%s: the pipeline table is stale: run make docs", path))
	default:
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			fail(err)
		}
		fmt.Println(path + ": pipeline table written")
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pipelinedoc:", err)
	os.Exit(1)
}
