package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestDocsLinksResolve: every relative link in README.md and docs/ names a
// file that exists and, with a #fragment, a heading in it, so a page moved
// or a heading renamed does not leave a newcomer at a dead link.
func TestDocsLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	links := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, page := range append([]string{"README.md"}, pages...) {
		prose, _ := markdown(t, page)
		for _, m := range links.FindAllStringSubmatch(prose, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, fragment, _ := strings.Cut(target, "#")
			file := page
			if path != "" {
				file = filepath.Join(filepath.Dir(page), path)
				require.FileExists(t, file, "%s links to %s", page, target)
			}
			if fragment != "" {
				_, anchors := markdown(t, file)
				require.Contains(t, anchors, fragment, "%s links to %s: no such heading in %s", page, target, file)
			}
			checked++
		}
	}
	require.Positive(t, checked, "README.md links to the docs")
}

// markdown returns a page's text outside code blocks and the anchors
// GitHub gives its headings.
func markdown(t *testing.T, file string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var prose strings.Builder
	var anchors []string
	fenced := false
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		prose.WriteString(line)
		if heading := strings.TrimLeft(line, "#"); len(heading) < len(line) && strings.HasPrefix(heading, " ") {
			anchors = append(anchors, anchor(strings.TrimSpace(heading)))
		}
	}
	return prose.String(), anchors
}

// anchor is the fragment GitHub gives a heading: lower case, punctuation
// dropped, spaces as hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
