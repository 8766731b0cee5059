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
	paths := flag.Args()
	if len(paths) == 0 {
		paths = []string{"README.md", "docs/design.md"}
	}
	for _, p := range paths {
		if err := write(p, *verify); err != nil {
			fail(err)
		}
	}
}

// write replaces the table between the markers of one file (or, with
// verify, fails when it is stale).
func write(path string, verify bool) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, ok := pipeline.ReplaceMarkdownTable(string(old))
	if !ok {
		return fmt.Errorf("%s has no pipeline table markers (%s ... %s)", path, pipeline.MarkdownBegin, pipeline.MarkdownEnd)
	}
	switch {
	case doc == string(old):
		fmt.Println(path + ": pipeline table up to date")
	case verify:
		return fmt.Errorf("%s: the pipeline table is stale: run make docs", path)
	default:
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			return err
		}
		fmt.Println(path + ": pipeline table written")
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pipelinedoc:", err)
	os.Exit(1)
}
