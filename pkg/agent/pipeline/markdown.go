package pipeline

import (
	"fmt"
	"strings"
)

// README markers around the generated pipeline table (`make docs`).
const (
	MarkdownBegin = "<!-- pipeline table: generated from pkg/agent/pipeline (tables.go, priorities.go) by `make docs` -->"
	MarkdownEnd   = "<!-- end of pipeline table -->"
)

// MarkdownTable renders the declared pipeline as a Markdown table: number,
// name, what the table does, its priorities and what its miss does.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| table | name | flows | priorities | miss |\n|---|---|---|---|---|\n")
	for _, t := range Tables {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", t.ID, t.Name, t.Job, t.PrioritiesText(), t.MissText())
	}
	return b.String()
}

// ReplaceMarkdownTable returns doc with the text between MarkdownBegin and
// MarkdownEnd replaced by MarkdownTable, and whether the markers were found.
func ReplaceMarkdownTable(doc string) (string, bool) {
	i := strings.Index(doc, MarkdownBegin)
	j := strings.Index(doc, MarkdownEnd)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i] + MarkdownBegin + "\n" + MarkdownTable() + doc[j:], true
}
