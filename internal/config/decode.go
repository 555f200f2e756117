package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// inlineSecrets are keys that would put a secret into the file, with what to
// write instead.
var inlineSecrets = map[string]string{
	"api_token":    "api_token_env or api_token_file",
	"bearer_token": "bearer_token_env or bearer_token_file",
	"password":     "password_env or password_file",
	"token":        "api_token_env or api_token_file",
}

var durationType = reflect.TypeFor[Duration]()

// decoder fills a File from a YAML node tree. It does its own decoding,
// rather than yaml's, so that each error can name the field path, the value
// and what is allowed, and record each field's line.
type decoder struct {
	lines map[string]int
}

// decode parses data into f. Errors start with ":LINE: " so that the caller
// can put the file name in front.
func decode(data []byte, f *File) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf(" %w", err)
	}
	if root.Kind == 0 {
		return nil // an empty file
	}
	d := decoder{lines: f.lines}
	return d.value(&root, reflect.ValueOf(f).Elem(), "")
}

func (d decoder) value(n *yaml.Node, v reflect.Value, path string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return d.value(n.Content[0], v, path)
	case yaml.AliasNode:
		return d.value(n.Alias, v, path)
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	switch {
	case v.Type() == durationType:
		return d.duration(n, v, path)
	case v.Kind() == reflect.Struct:
		return d.mapping(n, v, path)
	case v.Kind() == reflect.Slice:
		return d.sequence(n, v, path)
	}
	return d.scalar(n, v, path)
}

// mapping fills the struct v from a mapping, refusing unknown keys.
func (d decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return errorAt(n, path, "want a mapping of %s", strings.Join(keysOf(v.Type()), ", "))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		field := join(path, key)
		if seen[key] {
			return errorAt(n.Content[i], field, "given twice")
		}
		seen[key] = true
		if use, ok := inlineSecrets[key]; ok {
			return errorAt(n.Content[i], field, "a secret may not be written in the file; set %s instead", use)
		}
		idx := fieldIndex(v.Type(), key)
		if idx < 0 {
			return errorAt(n.Content[i], field, "unknown field; want one of %s", strings.Join(keysOf(v.Type()), ", "))
		}
		if err := d.value(val, v.Field(idx), field); err != nil {
			return err
		}
	}
	return nil
}

// sequence fills the slice v from a sequence; a list of strings may also be
// one comma-separated string.
func (d decoder) sequence(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
		for s := range strings.SplitSeq(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				v.Set(reflect.Append(v, reflect.ValueOf(s)))
			}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return errorAt(n, path, "want a list")
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if err := d.value(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func (d decoder) scalar(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode {
		return errorAt(n, path, "want a single value")
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errorAt(n, path, "%q: want true or false", s)
		}
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.Atoi(s)
		if err != nil {
			return errorAt(n, path, "%q: want a whole number", s)
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errorAt(n, path, "%q: want a number", s)
		}
		v.SetFloat(x)
	default:
		return errorAt(n, path, "unsupported type %s", v.Type()) // a bug in File, not in the file
	}
	return nil
}

func (d decoder) duration(n *yaml.Node, v reflect.Value, path string) error {
	dur, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return errorAt(n, path, "%q: want a duration such as 30s, 5m or 1h30m", n.Value)
	}
	v.SetInt(int64(dur))
	return nil
}

func errorAt(n *yaml.Node, path, format string, args ...any) error {
	return fmt.Errorf("%d: %s: %s", n.Line, path, fmt.Sprintf(format, args...))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldIndex returns the index of the field of t tagged key, or -1.
func fieldIndex(t reflect.Type, key string) int {
	for i := range t.NumField() {
		if tag := yamlKey(t.Field(i)); tag == key {
			return i
		}
	}
	return -1
}

// keysOf lists the keys a struct accepts, sorted.
func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return k
}
