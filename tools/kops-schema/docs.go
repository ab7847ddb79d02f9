package main

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// packageSource is what the generator reads from a package's Go source: its name, the doc
// comments of its types and of their fields, and the string constants declared for each of its
// named types.
type packageSource struct {
	name      string
	typeDocs  map[string]string            // type name -> description
	fieldDocs map[string]map[string]string // type name -> Go field name -> description
	constants map[string][]string          // named type -> values of the constants of that type
}

// docIndex parses packages on first use.
type docIndex struct {
	locate   *sourceLocator
	packages map[string]*packageSource
}

func newDocIndex(locate *sourceLocator) *docIndex {
	return &docIndex{locate: locate, packages: map[string]*packageSource{}}
}

func (d *docIndex) pkg(pkgPath string) (*packageSource, error) {
	if p, ok := d.packages[pkgPath]; ok {
		return p, nil
	}
	dir, err := d.locate.dir(pkgPath)
	if err != nil {
		return nil, err
	}
	p, err := parsePackage(dir)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", pkgPath, err)
	}
	d.packages[pkgPath] = p
	return p, nil
}

// parsePackage reads the files of the package in dir that this platform's build would compile
// (no tests), in name order.
func parsePackage(dir string) (*packageSource, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, n); err != nil || !ok {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)

	p := &packageSource{typeDocs: map[string]string{}, fieldDocs: map[string]map[string]string{}, constants: map[string][]string{}}
	fset := token.NewFileSet()
	var consts []*ast.GenDecl
	for _, n := range names {
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		p.name = f.Name.Name
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			switch gd.Tok {
			case token.TYPE:
				p.addTypes(gd)
			case token.CONST:
				consts = append(consts, gd)
			}
		}
	}
	p.addConstants(consts)
	return p, nil
}

func (p *packageSource) addTypes(gd *ast.GenDecl) {
	for _, spec := range gd.Specs {
		ts := spec.(*ast.TypeSpec)
		name := ts.Name.Name
		if _, seen := p.typeDocs[name]; seen {
			continue
		}
		doc := ts.Doc
		if doc == nil && len(gd.Specs) == 1 {
			doc = gd.Doc
		}
		if doc == nil {
			doc = ts.Comment
		}
		p.typeDocs[name] = description(doc)
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		fields := map[string]string{}
		for _, f := range st.Fields.List {
			doc := f.Doc
			if doc == nil {
				doc = f.Comment
			}
			for _, n := range f.Names {
				fields[n.Name] = description(doc)
			}
		}
		p.fieldDocs[name] = fields
	}
}

// addConstants records the string constants of the package's named types: `X T = "v"`,
// `X = T("v")`, a value naming another string constant, and a spec repeating the one above it.
func (p *packageSource) addConstants(decls []*ast.GenDecl) {
	literals := map[string]string{} // constant name -> value, for constants that name another
	for _, gd := range decls {
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					if s, ok := stringLit(vs.Values[i]); ok {
						literals[n.Name] = s
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, gd := range decls {
		var prevType ast.Expr
		var prevValues []ast.Expr
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			typ, values := vs.Type, vs.Values
			if typ == nil && len(values) == 0 {
				typ, values = prevType, prevValues
			}
			prevType, prevValues = typ, values
			for i := range vs.Names {
				if i >= len(values) {
					break
				}
				typeName, v := "", values[i]
				if id, ok := typ.(*ast.Ident); ok {
					typeName = id.Name
				} else if call, ok := v.(*ast.CallExpr); ok && typ == nil && len(call.Args) == 1 {
					if id, ok := call.Fun.(*ast.Ident); ok {
						typeName, v = id.Name, call.Args[0]
					}
				}
				if typeName == "" {
					continue // untyped
				}
				value, ok := stringLit(v)
				if id, isIdent := v.(*ast.Ident); isIdent {
					value, ok = literals[id.Name]
				}
				if !ok || seen[typeName+"\x00"+value] {
					continue // iota, a number, or a value seen already
				}
				seen[typeName+"\x00"+value] = true
				p.constants[typeName] = append(p.constants[typeName], value)
			}
		}
	}
	for _, values := range p.constants {
		sort.Strings(values)
	}
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// description is the first paragraph of a doc comment, without Kubernetes's `+marker` lines,
// whitespace collapsed.
func description(doc *ast.CommentGroup) string {
	if doc == nil {
		return ""
	}
	var words []string
	for _, line := range strings.Split(doc.Text(), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "+") {
			continue
		}
		if line == "" {
			if len(words) > 0 {
				break
			}
			continue
		}
		words = append(words, strings.Fields(line)...)
	}
	return strings.Join(words, " ")
}
