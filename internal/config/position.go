package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Position returns where the value a problem key names is written, as
// file:line:col (Pulumi.yaml:52:11), or "" when no file read holds it. The
// key is a problem's: a config key, then .field and [item] steps, where an
// item is named by its name field or its position.
func (v *Values) Position(key string) string {
	top, steps := splitKey(key)
	if top == "" {
		return ""
	}
	for _, f := range v.files {
		for k, value := range pairs(f.config) {
			if v.fullKey(k.Value) != top {
				continue
			}
			at := k
			if f.project {
				for field, inner := range pairs(value) {
					if field.Value == "value" || field.Value == "default" {
						value = inner
					}
				}
			}
			for _, s := range steps {
				next, inner, ok := step(value, s)
				if !ok {
					break // the deepest step written is the best place to point at
				}
				at, value = next, inner
			}
			return fmt.Sprintf("%s:%d:%d", f.name, at.Line, at.Column)
		}
	}
	return ""
}

// step follows one step of a key into a YAML value: a field of a mapping
// (positioned at the field's name) or an item of a list.
func step(n *yaml.Node, s string) (at, value *yaml.Node, ok bool) {
	if field, isField := strings.CutPrefix(s, "."); isField {
		for k, v := range pairs(n) {
			if k.Value == field {
				return k, v, true
			}
		}
		return nil, nil, false
	}
	label := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if n.Kind != yaml.SequenceNode {
		return nil, nil, false
	}
	for _, item := range n.Content {
		for k, v := range pairs(item) {
			if k.Value == "name" && v.Value == label {
				return item, item, true
			}
		}
	}
	if i, err := strconv.Atoi(label); err == nil && i >= 0 && i < len(n.Content) {
		return n.Content[i], n.Content[i], true
	}
	return nil, nil, false
}

// splitKey splits dome:topology.workers[silo].main into the config key
// (dome:topology) and its steps (.workers, [silo], .main). Keys outside a
// namespace (environment variables) have no config key.
func splitKey(key string) (string, []string) {
	ns, rest, ok := strings.Cut(key, ":")
	if !ok {
		return "", nil
	}
	end := strings.IndexAny(rest, ".[")
	if end < 0 {
		return key, nil
	}
	top := ns + ":" + rest[:end]
	var steps []string
	for s := rest[end:]; s != ""; {
		var n int
		if s[0] == '[' {
			n = strings.IndexByte(s, ']') + 1
			if n == 0 {
				n = len(s)
			}
		} else {
			n = strings.IndexAny(s[1:], ".[") + 1
			if n == 0 {
				n = len(s)
			}
		}
		steps = append(steps, s[:n])
		s = s[n:]
	}
	return top, steps
}
