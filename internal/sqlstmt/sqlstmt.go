// Package sqlstmt splits a SQL script into its statements the way SQLite
// reads one: semicolons inside quotes, identifiers, comments and trigger
// bodies do not end a statement.
//
// The emulator's D1 runs each statement of a query on its own and reports it
// separately, as D1 does; the migration resource needs the same statements to
// say which one of a file failed, and validation (internal/schemacheck) runs
// them as the deploy will send them.
package sqlstmt

import (
	"strings"
	"unicode"
)

// Split returns the statements of script, trimmed, without their
// terminating semicolons. Statements holding nothing but comments and
// whitespace are dropped, as SQLite skips them.
//
// A CREATE TRIGGER statement ends only at the semicolon of ";" END ";",
// the rule sqlite3_complete applies: the END of a CASE inside the body
// follows no semicolon, so it does not end the trigger.
func Split(script string) []string {
	var out []string
	for _, st := range Statements(script) {
		out = append(out, st.SQL)
	}
	return out
}

// Statement is one statement of a script and where it starts.
type Statement struct {
	SQL string // as Split returns it
	// Line is the line, from 1, of the statement's first token that is not
	// a comment: a comment above a statement is not where it starts.
	Line int
}

// Statements is Split with each statement's line, for a message that
// points into the script.
func Statements(script string) []Statement {
	var out []Statement
	s := splitter{src: script}
	start := 0
	line, counted := 1, 0 // the line of offset counted
	add := func(end int) {
		if !s.hasCode {
			return
		}
		line += strings.Count(s.src[counted:s.codeAt], "\n")
		counted = s.codeAt
		out = append(out, Statement{SQL: strings.TrimSpace(s.src[start:end]), Line: line})
	}
	for s.pos < len(s.src) {
		if s.step() {
			add(s.pos - 1)
			start = s.pos
			s.reset()
		}
	}
	add(len(s.src))
	return out
}

// splitter walks the script one token at a time.
type splitter struct {
	src string
	pos int

	hasCode   bool     // the current statement has a token that is not a comment
	codeAt    int      // where its first such token starts
	words     []string // its first three words, upper-cased, to spot CREATE [TEMP] TRIGGER
	inTrigger bool
	semi      bool // in a trigger, the latest token was a semicolon
	endsBody  bool // in a trigger, the latest token was an END right after a semicolon
}

func (s *splitter) reset() {
	s.hasCode, s.words, s.inTrigger, s.semi, s.endsBody = false, nil, false, false, false
}

// step consumes one token and reports whether it was a statement-ending semicolon.
func (s *splitter) step() bool {
	c := s.src[s.pos]
	switch {
	case c == ';':
		s.pos++
		if s.inTrigger && !s.endsBody {
			s.semi, s.endsBody = true, false
			return false
		}
		return true
	case c == '-' && strings.HasPrefix(s.src[s.pos:], "--"):
		if nl := strings.IndexByte(s.src[s.pos:], '\n'); nl >= 0 {
			s.pos += nl + 1
		} else {
			s.pos = len(s.src)
		}
		return false
	case c == '/' && strings.HasPrefix(s.src[s.pos:], "/*"):
		if end := strings.Index(s.src[s.pos+2:], "*/"); end >= 0 {
			s.pos += end + 4
		} else {
			s.pos = len(s.src)
		}
		return false
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
		s.pos++
		return false
	}
	if !s.hasCode {
		s.hasCode, s.codeAt = true, s.pos
	}
	switch c {
	case '\'', '"', '`':
		s.quoted(c)
	case '[':
		if end := strings.IndexByte(s.src[s.pos:], ']'); end >= 0 {
			s.pos += end + 1
		} else {
			s.pos = len(s.src)
		}
	default:
		if isWordByte(c) {
			start := s.pos
			for s.pos < len(s.src) && isWordByte(s.src[s.pos]) {
				s.pos++
			}
			s.word(strings.ToUpper(s.src[start:s.pos]))
			return false
		}
		s.pos++
	}
	s.semi, s.endsBody = false, false
	return false
}

// quoted skips a quoted string or identifier; a doubled quote is an escaped one.
func (s *splitter) quoted(q byte) {
	s.pos++
	for s.pos < len(s.src) {
		if s.src[s.pos] == q {
			if s.pos+1 < len(s.src) && s.src[s.pos+1] == q {
				s.pos += 2
				continue
			}
			s.pos++
			return
		}
		s.pos++
	}
}

func (s *splitter) word(w string) {
	s.endsBody = w == "END" && s.semi
	s.semi = false
	if len(s.words) >= 3 {
		return
	}
	s.words = append(s.words, w)
	switch {
	case len(s.words) == 2 && s.words[0] == "CREATE" && w == "TRIGGER",
		len(s.words) == 3 && s.words[0] == "CREATE" && (s.words[1] == "TEMP" || s.words[1] == "TEMPORARY") && w == "TRIGGER":
		s.inTrigger = true
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
}
