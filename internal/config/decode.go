package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// decode reads the JSON value Pulumi hands the program for key into v,
// driven by v's Go type and json tags alone, so a field added to a config
// type is decoded (and misspellings of it caught) with no change here.
// Unlike encoding/json it does not stop at the first mismatch: every
// unknown field and every value of the wrong type is reported at its own
// path (dome:topology.workers[silo].bindngs), the rest is still decoded.
func decode(raw, key string, v any) Problems {
	var ps Problems
	n, err := parseJSON(raw)
	if err != nil {
		ps.add(key, "is not a valid value (%v); write it as YAML under the key", err)
		return ps
	}
	return decodeNode(n, key, v)
}

// decodeNode is decode of a value already parsed.
func decodeNode(n *node, key string, v any) Problems {
	var ps Problems
	d := decoder{ps: &ps}
	d.value(key, n, reflect.ValueOf(v).Elem())
	return ps
}

type decoder struct{ ps *Problems }

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	oneOrManyType   = reflect.TypeFor[oneOrMany]()
)

// oneOrMany is a list type whose YAML may also be its single item written
// alone (a worker's migrations, as wrangler's single migration).
type oneOrMany interface{ oneOrMany() }

func (d decoder) value(path string, n *node, v reflect.Value) {
	if n.kind == kindNull {
		return // absent, as encoding/json treats null
	}
	if v.Type().Implements(oneOrManyType) {
		// Decoded here, not by its UnmarshalJSON, so each item's problems
		// keep their own paths.
		if n.kind == kindObject {
			s := reflect.MakeSlice(v.Type(), 1, 1)
			d.value(path, n, s.Index(0))
			v.Set(s)
			return
		}
		d.slice(path, n, v)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		// A type with its own JSON form decodes itself.
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(n.raw); err != nil {
			d.ps.add(path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(path, n, v.Elem())
	case reflect.Struct:
		d.object(path, n, v)
	case reflect.Slice:
		d.slice(path, n, v)
	case reflect.Map:
		if n.kind != kindObject || v.Type().Key().Kind() != reflect.String {
			d.mismatch(path, n, "a mapping of names to values", "write it as lines of NAME: value")
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.members))
		for _, mem := range n.members {
			e := reflect.New(v.Type().Elem()).Elem()
			d.value(path+"."+mem.name, mem.value, e)
			m.SetMapIndex(reflect.ValueOf(mem.name).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.String:
		if n.kind != kindString {
			d.mismatch(path, n, "text", fmt.Sprintf("quote it: %q", n.text()))
			return
		}
		v.SetString(n.str)
	case reflect.Bool:
		if n.kind != kindBool {
			d.mismatch(path, n, "true or false", "write true or false without quotes")
			return
		}
		v.SetBool(n.b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.integer(path, n, v)
	case reflect.Float32, reflect.Float64:
		if n.kind != kindNumber {
			d.mismatch(path, n, "a number", d.numberFix(n))
			return
		}
		f, err := strconv.ParseFloat(n.str, v.Type().Bits())
		if err != nil {
			d.ps.add(path, "%s is not a number this field can hold", n.str)
			return
		}
		v.SetFloat(f)
	default:
		d.ps.add(path, "cannot be read into a %s (a bug in the config types)", v.Type())
	}
}

func (d decoder) slice(path string, n *node, v reflect.Value) {
	if n.kind != kindArray {
		d.mismatch(path, n, "a list", "write it as [a, b] or as lines starting with \"- \"")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
	for i, item := range n.items {
		d.value(fmt.Sprintf("%s[%s]", path, item.label(i)), item, s.Index(i))
	}
	v.Set(s)
}

func (d decoder) integer(path string, n *node, v reflect.Value) {
	if n.kind != kindNumber {
		d.mismatch(path, n, "a whole number", d.numberFix(n))
		return
	}
	i, err := strconv.ParseInt(n.str, 10, v.Type().Bits())
	if err == nil {
		v.SetInt(i)
		return
	}
	if f, ferr := strconv.ParseFloat(n.str, 64); ferr == nil && f != float64(int64(f)) {
		d.ps.add(path, "%s is not a whole number; use an integer such as %d", n.str, int64(f))
		return
	}
	d.ps.add(path, "%s is too large", n.str)
}

func (d decoder) numberFix(n *node) string {
	if n.kind == kindString {
		if _, err := strconv.ParseFloat(n.str, 64); err == nil {
			return fmt.Sprintf("write %s without quotes", n.str)
		}
	}
	return "write a number, e.g. 10"
}

func (d decoder) mismatch(path string, n *node, want, fix string) {
	d.ps.add(path, "must be %s, not %s; %s", want, n.describe(), fix)
}

func (d decoder) object(path string, n *node, v reflect.Value) {
	if n.kind != kindObject {
		d.mismatch(path, n, "a mapping of fields", "write it as lines of field: value")
		return
	}
	fields := jsonFields(v.Type())
	for _, mem := range n.members {
		index, ok := fields[mem.name]
		if !ok {
			d.ps.add(path+"."+mem.name, "unknown field %q; %s", mem.name, suggest(mem.name, slices.Sorted(maps.Keys(fields)), "the fields here are"))
			continue
		}
		d.value(path+"."+mem.name, mem.value, v.FieldByIndex(index))
	}
}

// jsonFields maps each JSON field name of struct type t to its field, as
// encoding/json names them (embedded structs flattened, "-" skipped).
func jsonFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			continue // its fields are visible themselves
		}
		if tag == "" {
			tag = f.Name
		}
		out[tag] = f.Index
	}
	return out
}

// suggest names the candidate closest to got ("did you mean"), or lists
// them all when none is close.
func suggest(got string, candidates []string, listLabel string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		dist := editDistance(strings.ToLower(got), strings.ToLower(c))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if bestDist >= 0 && bestDist <= max(2, len(got)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return listLabel + ": " + strings.Join(candidates, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// node is a JSON value that keeps the order of object members (the order
// the YAML declares them in, which is the order problems are reported in)
// and its own encoding, for types that decode themselves.
type node struct {
	kind    nodeKind
	str     string // string value, or a number as written
	b       bool
	items   []*node
	members []member
	raw     json.RawMessage
}

type member struct {
	name  string
	value *node
}

type nodeKind int

const (
	kindNull nodeKind = iota
	kindString
	kindNumber
	kindBool
	kindArray
	kindObject
)

// label names a list item in a path: by its name when it has one
// (workers[silo]), else by its position (consumers[0]).
func (n *node) label(i int) string {
	for _, m := range n.members {
		if m.name == "name" && m.value.kind == kindString && m.value.str != "" {
			return m.value.str
		}
	}
	return strconv.Itoa(i)
}

// text is the value as it would be written in YAML, for a "quote it" fix.
func (n *node) text() string {
	switch n.kind {
	case kindBool:
		return strconv.FormatBool(n.b)
	case kindNumber, kindString:
		return n.str
	}
	return "..."
}

// describe says what the value is, for a type mismatch.
func (n *node) describe() string {
	switch n.kind {
	case kindString:
		return fmt.Sprintf("the text %q", n.str)
	case kindNumber:
		return "the number " + n.str
	case kindBool:
		return "the boolean " + strconv.FormatBool(n.b)
	case kindArray:
		return "a list"
	case kindObject:
		return "a mapping"
	}
	return "null"
}

func parseJSON(raw string) (*node, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	n, err := parseNode(dec, []byte(raw))
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the value")
	}
	return n, nil
}

func parseNode(dec *json.Decoder, raw []byte) (*node, error) {
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &node{}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case string:
		n.kind, n.str = kindString, t
	case json.Number:
		n.kind, n.str = kindNumber, t.String()
	case bool:
		n.kind, n.b = kindBool, t
	case json.Delim:
		switch t {
		case '[':
			n.kind = kindArray
			for dec.More() {
				item, err := parseNode(dec, raw)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, item)
			}
		case '{':
			n.kind = kindObject
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				name, _ := k.(string)
				value, err := parseNode(dec, raw)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{name: name, value: value})
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	}
	// The value's own bytes, without the separator that may precede it.
	n.raw = bytes.TrimLeft(raw[start:dec.InputOffset()], " \t\r\n,:")
	return n, nil
}
