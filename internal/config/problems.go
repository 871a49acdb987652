package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a stack's configuration: the key that holds
// it and a message that gives the bad value and the fix.
type Problem struct {
	Key     string
	Message string
}

func (p Problem) String() string { return p.Key + ": " + p.Message }

// Problems is every problem found in one pass, in the order the
// configuration declares the offending keys. It is the error Load returns.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	if len(ps) == 1 {
		b.WriteString("1 configuration problem:")
	} else {
		fmt.Fprintf(&b, "%d configuration problems:", len(ps))
	}
	for _, p := range ps {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

func (ps *Problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}
