package main

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// node is one schema node (src/schema/format.ts); encoding/json writes its keys sorted.
type node map[string]any

// fieldKey names a field of a struct's JSON form.
type fieldKey struct {
	owner reflect.Type
	name  string
}

// schemaBuilder turns Go types into the nodes of src/schema/format.ts.
type schemaBuilder struct {
	docs     *docIndex
	names    map[reflect.Type]string // named struct type -> its $defs name
	defs     map[string]node
	enums    map[fieldKey]tableEntry
	required map[fieldKey]tableEntry
	applied  map[fieldKey]int // table entries used: bit 1 the enum, bit 2 the required entry
}

// build makes the $defs for every named struct reachable from roots.
func (b *schemaBuilder) build(roots []reflect.Type) error {
	var structs []reflect.Type
	seen := map[reflect.Type]bool{}
	for _, r := range roots {
		if err := collectStructs(r, seen, &structs); err != nil {
			return err
		}
	}
	if err := b.assignNames(structs); err != nil {
		return err
	}
	for _, t := range structs {
		n, err := b.structNode(t)
		if err != nil {
			return err
		}
		b.defs[b.names[t]] = n
	}
	for k, e := range b.enums {
		if b.applied[k]&1 == 0 {
			return fmt.Errorf("enum table: %s has no field %q (%s)", typeName(k.owner), k.name, e.why)
		}
	}
	for k, e := range b.required {
		if b.applied[k]&2 == 0 {
			return fmt.Errorf("required table: %s has no field %q (%s)", typeName(k.owner), k.name, e.why)
		}
	}
	return nil
}

// collectStructs finds every named struct type reachable from t through fields, pointers,
// slices and maps.
func collectStructs(t reflect.Type, seen map[reflect.Type]bool, out *[]reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := specialTypes[t]; ok {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return collectStructs(t.Elem(), seen, out)
	case reflect.Struct:
		if seen[t] {
			return nil
		}
		seen[t] = true
		if t.Name() != "" {
			*out = append(*out, t)
		}
		fields, err := jsonFields(t)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if err := collectStructs(f.typ, seen, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// assignNames names each struct by its Go name, or package.Name where two packages share a name.
func (b *schemaBuilder) assignNames(structs []reflect.Type) error {
	byName := map[string][]reflect.Type{}
	for _, t := range structs {
		if strings.ContainsAny(t.Name(), "[]") {
			return fmt.Errorf("%s: generic types are not supported", typeName(t))
		}
		byName[t.Name()] = append(byName[t.Name()], t)
	}
	taken := map[string]reflect.Type{}
	for name, ts := range byName {
		for _, t := range ts {
			n := name
			if len(ts) > 1 {
				p, err := b.docs.pkg(t.PkgPath())
				if err != nil {
					return err
				}
				n = p.name + "." + name
			}
			if other, dup := taken[n]; dup {
				return fmt.Errorf("$defs name %s is claimed by both %s and %s", n, typeName(other), typeName(t))
			}
			taken[n] = t
			b.names[t] = n
		}
	}
	return nil
}

func (b *schemaBuilder) ref(t reflect.Type) node {
	return node{"$ref": "#/$defs/" + b.names[t]}
}

// structNode is a struct's JSON form: its fields, with their descriptions and table entries.
func (b *schemaBuilder) structNode(t reflect.Type) (node, error) {
	fields, err := jsonFields(t)
	if err != nil {
		return nil, err
	}
	props := node{}
	var required []string
	for _, f := range fields {
		at := typeName(t) + "." + f.goName
		n, err := b.schemaOf(f.typ, at)
		if err != nil {
			return nil, err
		}
		if d, err := b.fieldDoc(f); err != nil {
			return nil, err
		} else if d != "" {
			n["description"] = d
		}
		key := fieldKey{t, f.name}
		if e, ok := b.enums[key]; ok {
			if n["type"] != "string" {
				return nil, fmt.Errorf("enum table: %s is not a string field", at)
			}
			values := slices.Clone(e.values)
			slices.Sort(values)
			n["enum"] = values
			delete(n, "x-kops-values")
			b.applied[key] |= 1
		}
		if _, ok := b.required[key]; ok {
			required = append(required, f.name)
			b.applied[key] |= 2
		}
		props[f.name] = n
	}
	n := node{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		n["required"] = required
	}
	if t.Name() != "" {
		p, err := b.docs.pkg(t.PkgPath())
		if err != nil {
			return nil, err
		}
		if d := p.typeDocs[t.Name()]; d != "" {
			n["description"] = d
		}
	}
	return n, nil
}

func (b *schemaBuilder) fieldDoc(f jsonField) (string, error) {
	if f.owner.Name() == "" {
		return "", nil
	}
	p, err := b.docs.pkg(f.owner.PkgPath())
	if err != nil {
		return "", err
	}
	return p.fieldDocs[f.owner.Name()][f.goName], nil
}

// schemaOf is the node for a value of type t; at names the field, for messages.
func (b *schemaBuilder) schemaOf(t reflect.Type, at string) (node, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if special, ok := specialTypes[t]; ok {
		return special(), nil
	}
	if err := checkNoCustomJSON(t, at); err != nil {
		return nil, err
	}
	switch t.Kind() {
	case reflect.Bool:
		return node{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return node{"type": "integer", "minimum": int64(-1) << (bits - 1), "maximum": int64(math.MaxInt64 >> (64 - bits)), "x-go-type": t.Kind().String()}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return node{"type": "integer", "minimum": 0, "maximum": uint64(math.MaxUint64) >> (64 - t.Bits()), "x-go-type": t.Kind().String()}, nil
	case reflect.Float32, reflect.Float64:
		return node{"type": "number"}, nil
	case reflect.String:
		return b.stringNode(t)
	case reflect.Interface:
		return node{"x-kops-any": true}, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && checkNoCustomJSON(t.Elem(), at) == nil {
			return node{"type": "string", "format": "byte"}, nil // encoding/json's base64
		}
		items, err := b.schemaOf(t.Elem(), at+"[]")
		if err != nil {
			return nil, err
		}
		return node{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: a map with %s keys cannot be expressed in the schema format (string keys only)", at, t.Key())
		}
		if err := checkNoCustomJSON(t.Key(), at+" (map key)"); err != nil {
			return nil, err
		}
		values, err := b.schemaOf(t.Elem(), at+"[key]")
		if err != nil {
			return nil, err
		}
		return node{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		if t.Name() != "" {
			return b.ref(t), nil
		}
		return b.structNode(t)
	}
	return nil, fmt.Errorf("%s: type %s (%s) has no JSON form in the schema format", at, t, t.Kind())
}

// stringNode is a string; for a named string type, with the values of its declared constants.
func (b *schemaBuilder) stringNode(t reflect.Type) (node, error) {
	n := node{"type": "string"}
	if t.PkgPath() == "" {
		return n, nil
	}
	values, err := b.knownValues(t)
	if err != nil {
		return nil, err
	}
	if len(values) > 0 {
		n["x-kops-values"] = values
	}
	return n, nil
}

// internalKops is the package kops converts v1alpha2 documents to; its named string types carry
// the same names as v1alpha2's and are converted by a plain cast.
const (
	v1alpha2Path    = "k8s.io/kops/pkg/apis/kops/v1alpha2"
	internalKopsPkg = "k8s.io/kops/pkg/apis/kops"
)

// knownValues are the constants declared for named string type t in its package. v1alpha2
// declares some of its types without constants (InstanceGroupRole, InstanceManager); for those the
// constants of the internal type of the same name are taken, which conversion casts to.
func (b *schemaBuilder) knownValues(t reflect.Type) ([]string, error) {
	p, err := b.docs.pkg(t.PkgPath())
	if err != nil {
		return nil, err
	}
	if values := p.constants[t.Name()]; len(values) > 0 || t.PkgPath() != v1alpha2Path {
		return values, nil
	}
	internal, err := b.docs.pkg(internalKopsPkg)
	if err != nil {
		return nil, err
	}
	return internal.constants[t.Name()], nil
}
