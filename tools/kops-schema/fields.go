package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"
)

// jsonField is one field of a struct's JSON form.
type jsonField struct {
	name   string       // the JSON name
	goName string       // the Go field name
	owner  reflect.Type // the struct declaring it (an embedded one, for flattened fields)
	typ    reflect.Type
	tagged bool
	index  []int
}

// jsonFields lists the fields of struct t as encoding/json (and sigs.k8s.io/json, which kops
// decodes with) sees them: exported fields under their tag name or Go name, `json:"-"` left out,
// untagged embedded structs flattened, and a name claimed by several fields at the same depth
// given to none of them. This follows encoding/json's typeFields.
func jsonFields(t reflect.Type) ([]jsonField, error) {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var fields []jsonField
	current, next := []level{}, []level{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := 0; i < l.typ.NumField(); i++ {
				sf := l.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				for _, o := range strings.Split(opts, ",") {
					if o == "string" {
						return nil, fmt.Errorf("%s.%s: the json option \",string\" (a value written as a string) cannot be expressed in the schema format", typeName(l.typ), sf.Name)
					}
				}
				index := append(append([]int{}, l.index...), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := jsonField{name: name, goName: sf.Name, owner: l.typ, typ: sf.Type, tagged: name != "", index: index}
					if f.name == "" {
						f.name = sf.Name
					}
					fields = append(fields, f)
					if count[l.typ] > 1 {
						// Two copies at this depth: the name is ambiguous and dropped below.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{typ: ft, index: index})
				}
			}
		}
	}

	sort.SliceStable(fields, func(i, j int) bool {
		a, b := fields[i], fields[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		return a.tagged && !b.tagged
	})
	var out []jsonField
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		if f, ok := dominant(fields[i:j]); ok {
			out = append(out, f)
		}
		i = j
	}
	return out, nil
}

// dominant is encoding/json's dominantField: the shallowest field of a name, if only one is
// (tagged ones win over untagged at the same depth).
func dominant(fields []jsonField) (jsonField, bool) {
	if len(fields) > 1 && len(fields[0].index) == len(fields[1].index) && fields[0].tagged == fields[1].tagged {
		return jsonField{}, false
	}
	return fields[0], true
}

// validTagName is encoding/json's isValidTag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
