package diagram

import (
	"fmt"
	"strings"
)

// Markdown is the picture as a Markdown report, for a CI job summary or a
// pull-request comment: a heading that counts the changes, the Mermaid
// block, a legend and every change the preview would make, those the
// picture does not draw (the providers) included.
func Markdown(p *Picture) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Topology of `%s`", p.Stack)
	if p.Previewed {
		count := map[Change]int{}
		for _, s := range p.Steps {
			count[s.Change()]++
		}
		fmt.Fprintf(&b, ": %d to create, %d to update, %d to replace, %d to delete", count[Created], count[Updated], count[Replaced], count[Deleted])
	}
	b.WriteString("\n\n```mermaid\n" + Mermaid(p) + "```\n")
	if !p.Previewed {
		return b.String()
	}
	b.WriteString("\nGreen: created; yellow: updated; orange: replaced; red, dashed: deleted; grey: unchanged.\n\n")
	if len(p.Steps) == 0 {
		b.WriteString("The preview changes nothing.\n")
		return b.String()
	}
	b.WriteString("| change | resource | type |\n|---|---|---|\n")
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "| %s | `%s` | `%s` |\n", s.Change(), s.Name(), s.Type())
	}
	return b.String()
}
