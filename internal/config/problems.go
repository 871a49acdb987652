package config

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a stack's configuration: the key that holds
// it and a message that gives the bad value and the fix.
type Problem struct {
	Key     string
	Message string
	// Pos is where the key is written (Pulumi.yaml:52:11), when known.
	Pos string
}

func (p Problem) String() string {
	if p.Pos != "" {
		return p.Pos + ": " + p.Key + ": " + p.Message
	}
	return p.Key + ": " + p.Message
}

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

// without drops the problems at or under any of the given keys: a value
// that could not be decoded has been reported once, and what validation
// then says about its zero value would only mislead.
func (ps Problems) without(keys []string) Problems {
	if len(keys) == 0 {
		return ps
	}
	return slices.DeleteFunc(ps, func(p Problem) bool {
		return slices.ContainsFunc(keys, func(k string) bool {
			rest, ok := strings.CutPrefix(p.Key, k)
			return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
		})
	})
}
