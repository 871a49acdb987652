package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	keys := make([]string, 0, len(v.Secrets))
	for k := range v.Secrets {
		keys = append(keys, k)
	}
	return keys
}

// ReadFiles reads dir/Pulumi.yaml and dir/Pulumi.<stack>.yaml.
func ReadFiles(dir, stack string) (*Values, error) {
	var project struct {
		Name   string               `yaml:"name"`
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	v := &Values{Project: project.Name, Dir: abs, Name: stack, Config: map[string]string{}, Secrets: map[string]bool{}}
	for k, node := range project.Config {
		value, ok, err := projectValue(&node)
		if err != nil {
			return nil, fmt.Errorf("config %q in Pulumi.yaml: %w", k, err)
		}
		if ok {
			v.Config[v.fullKey(k)] = value
		}
	}

	stackFile := filepath.Join(dir, "Pulumi."+stack+".yaml")
	var st struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := readYAML(stackFile, &st); err != nil {
		return nil, err
	}
	for k, node := range st.Config {
		full := v.fullKey(k)
		if node.Kind == yaml.MappingNode && len(node.Content) == 2 && node.Content[0].Value == "secure" {
			v.Secrets[full] = true
			v.Config[full] = "[secret]"
			continue
		}
		value, err := encode(&node)
		if err != nil {
			return nil, fmt.Errorf("%s: config %q: %w", filepath.Base(stackFile), k, err)
		}
		v.Config[full] = value
	}
	return v, nil
}

func (v *Values) fullKey(k string) string {
	if strings.Contains(k, ":") {
		return k
	}
	return v.Project + ":" + k
}

func readYAML(path string, out any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read stack configuration: %w", err)
	}
	if err := yaml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
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
