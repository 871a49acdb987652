package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Values is a stack's configuration read straight from Pulumi.yaml and
// Pulumi.<stack>.yaml and merged the way the Pulumi CLI merges them: stack
// values over project values, keys without a namespace in the project's,
// objects JSON-encoded. It lets `validate` check a stack offline, with no
// Pulumi CLI, and lets tests run the program on the real stack files.
type Values struct {
	Project string
	Dir     string
	Name    string            // the stack
	Config  map[string]string // full key ("dome:logLevel") to value
	Secrets map[string]bool   // keys stored encrypted; their values are unknown offline

	files []configFile // the files read, for where a key is written
}

// configFile is the config mapping of one file.
type configFile struct {
	name    string
	config  *yaml.Node
	project bool // Pulumi.yaml, whose entries may hold their value under value: or default:
}

// Stack implements Source.
func (v *Values) Stack() string { return v.Name }

// RootDirectory implements Source.
func (v *Values) RootDirectory() string { return v.Dir }

// GetConfig implements Source.
func (v *Values) GetConfig(key string) (string, bool) {
	s, ok := v.Config[key]
	return s, ok
}

// IsConfigSecret implements Source.
func (v *Values) IsConfigSecret(key string) bool { return v.Secrets[key] }

// SecretKeys lists the keys stored encrypted.
func (v *Values) SecretKeys() []string {
	return slices.Sorted(maps.Keys(v.Secrets))
}

// ReadFiles reads dir/Pulumi.yaml and dir/Pulumi.<stack>.yaml.
func ReadFiles(dir, stack string) (*Values, error) {
	var project struct {
		Name   string    `yaml:"name"`
		Config yaml.Node `yaml:"config"`
	}
	if err := readYAML(dir, "Pulumi.yaml", &project); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	v := &Values{Project: project.Name, Dir: abs, Name: stack, Config: map[string]string{}, Secrets: map[string]bool{}}
	stackFile := "Pulumi." + stack + ".yaml"
	var st struct {
		Config yaml.Node `yaml:"config"`
	}
	if err := readYAML(dir, stackFile, &st); err != nil {
		return nil, err
	}
	// The stack file first: its values win, so that is where a key is written.
	v.files = []configFile{{name: stackFile, config: &st.Config}, {name: "Pulumi.yaml", config: &project.Config, project: true}}
	if dups := append(v.duplicateKeys(v.files[1]), v.duplicateKeys(v.files[0])...); len(dups) > 0 {
		return nil, dups
	}

	for k, node := range pairs(&project.Config) {
		value, ok, err := projectValue(node)
		if err != nil {
			return nil, fmt.Errorf("config %q in Pulumi.yaml: %w", k.Value, err)
		}
		if ok {
			v.Config[v.fullKey(k.Value)] = value
		}
	}
	for k, node := range pairs(&st.Config) {
		full := v.fullKey(k.Value)
		if node.Kind == yaml.MappingNode && len(node.Content) == 2 && node.Content[0].Value == "secure" {
			v.Secrets[full] = true
			v.Config[full] = "[secret]"
			continue
		}
		value, err := encode(node)
		if err != nil {
			return nil, fmt.Errorf("%s: config %q: %w", stackFile, k.Value, err)
		}
		v.Config[full] = value
	}
	return v, nil
}

// Keys lists every key the files set, so Load can refuse the ones the
// program does not read.
func (v *Values) Keys() []string {
	return slices.Sorted(maps.Keys(v.Config))
}

func (v *Values) fullKey(k string) string {
	if strings.Contains(k, ":") {
		return k
	}
	return v.Project + ":" + k
}

// pairs yields a mapping node's keys and values, nothing for another node.
func pairs(n *yaml.Node) func(func(*yaml.Node, *yaml.Node) bool) {
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// duplicateKeys reports every key written twice in one mapping of f's
// config, which YAML does not allow. Left to the decoder, a duplicate in a
// value fails without naming the file or the column, and one among the
// config keys themselves goes unnoticed: the last would win.
func (v *Values) duplicateKeys(f configFile) Problems {
	var ps Problems
	// walk checks n, written at key; a Pulumi.yaml entry's value: and
	// default: hold the key's value, so they add no step to the key.
	var walk func(n *yaml.Node, key string, entry bool)
	walk = func(n *yaml.Node, key string, entry bool) {
		switch n.Kind {
		case yaml.MappingNode:
			first := map[string]*yaml.Node{}
			for k, value := range pairs(n) {
				inner, name := key+"."+k.Value, k.Value
				switch {
				case key == "":
					inner = v.fullKey(k.Value)
					name = inner // "workers" in a stack file is dome:workers
				case entry && (k.Value == "value" || k.Value == "default"):
					inner = key
				}
				if prev, dup := first[name]; dup {
					ps = append(ps, Problem{
						Key:     inner,
						Pos:     fmt.Sprintf("%s:%d:%d", f.name, k.Line, k.Column),
						Message: fmt.Sprintf("%q is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line %d", name, prev.Line),
					})
				}
				first[name] = k
				walk(value, inner, key == "" && f.project)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(item, fmt.Sprintf("%s[%s]", key, itemLabel(item, i)), false)
			}
		}
	}
	walk(f.config, "", false)
	return ps
}

// itemLabel names a list item in a key as the decoder does (node.label):
// by its name field when it has one, else by its position.
func itemLabel(item *yaml.Node, i int) string {
	for k, value := range pairs(item) {
		if k.Value == "name" && value.Kind == yaml.ScalarNode && value.Value != "" {
			return value.Value
		}
	}
	return strconv.Itoa(i)
}

var (
	yamlErrorLine    = regexp.MustCompile(`line (\d+): (.*)`)
	yamlDuplicateKey = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// readYAML reads dir/name into out. A syntax error names the file, line
// and column, and the fix for the commonest one, a tab in the indentation.
func readYAML(dir, name string, out any) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("read stack configuration: %w", err)
	}
	err = yaml.Unmarshal(data, out)
	if err == nil {
		return nil
	}
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	line, _ := strconv.Atoi(m[1])
	lines := strings.Split(string(data), "\n")
	// A tab is reported on its own line or, when it indents a line, on the one before.
	for _, l := range []int{line, line + 1} {
		if l < 1 || l > len(lines) {
			continue
		}
		text := lines[l-1]
		indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
		if col := strings.IndexByte(indent, '\t'); col >= 0 {
			return fmt.Errorf("%s:%d:%d: a tab indents this line; YAML indents with spaces only: replace the tab with spaces", name, l, col+1)
		}
	}
	col := 1
	if line >= 1 && line <= len(lines) {
		col += len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " "))
	}
	if dup := yamlDuplicateKey.FindStringSubmatch(m[2]); dup != nil {
		return fmt.Errorf("%s:%d:%d: %q is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line %s", name, line, col, dup[1], dup[2])
	}
	return fmt.Errorf("%s:%d:%d: %s; fix the YAML there (indentation, and quotes around values containing \": \" or starting with a special character)", name, line, col, m[2])
}

// projectValue reads a Pulumi.yaml config entry: the long form
// {value: ...} or {default: ...} (a bare {type: ...} declares no value), or
// the short form, a scalar.
func projectValue(node *yaml.Node) (string, bool, error) {
	if node.Kind != yaml.MappingNode {
		s, err := encode(node)
		return s, true, err
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		fields[node.Content[i].Value] = node.Content[i+1]
	}
	for _, f := range []string{"value", "default"} {
		if n, ok := fields[f]; ok {
			s, err := encode(n)
			return s, true, err
		}
	}
	if _, ok := fields["type"]; ok {
		return "", false, nil
	}
	return "", false, fmt.Errorf("an object value must be written under \"value:\"")
}

// encode turns a YAML value into the string Pulumi hands a program:
// scalars as written, objects and lists as JSON.
func encode(node *yaml.Node) (string, error) {
	if node.Kind == yaml.ScalarNode {
		return node.Value, nil
	}
	var v any
	if err := node.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(jsonable(v))
	return string(b), err
}

// jsonable converts what yaml.v3 decodes (maps with non-string keys
// included) into values encoding/json accepts.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonable(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonable(e)
		}
		return t
	default:
		return t
	}
}

// WithFiles returns src (a running program's context) together with what
// its Pulumi.yaml and Pulumi.<stack>.yaml say about the keys: which are set,
// so Load refuses those nothing reads, and where, so problems point at
// lines. Pulumi has read the same files already; if they cannot be read
// here, src is returned as it is and problems name keys without lines.
func WithFiles(src Source) Source {
	files, err := ReadFiles(rootDir(src), src.Stack())
	if err != nil {
		return src
	}
	return withFiles{Source: src, files: files}
}

type withFiles struct {
	Source
	files *Values
}

func (w withFiles) Keys() []string             { return w.files.Keys() }
func (w withFiles) Position(key string) string { return w.files.Position(key) }
