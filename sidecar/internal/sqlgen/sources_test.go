package sqlgen_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLTextSources guards the types that keep request text out of SQL (see builder.go): SQL text is appended
// only by builder.go; fixed is never made from anything but a string literal; ident and catalogSQL are made
// only in names.go, from schema cache values; Statements are made only by the builder.
func TestSQLTextSources(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				fn, ok := n.Fun.(*ast.Ident)
				if !ok || len(n.Args) != 1 {
					return true
				}
				switch fn.Name {
				case "fixed":
					if lit, ok := n.Args[0].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
						t.Errorf("%s: fixed(…) of something other than a string literal", fset.Position(n.Pos()))
					}
				case "ident", "catalogSQL":
					if name != "names.go" {
						t.Errorf("%s: %s(…) outside names.go", fset.Position(n.Pos()), fn.Name)
					}
				}
			case *ast.SelectorExpr:
				if n.Sel.Name == "buf" && name != "builder.go" {
					t.Errorf("%s: builder.buf used outside builder.go", fset.Position(n.Pos()))
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Statement" && name != "builder.go" {
					t.Errorf("%s: Statement made outside builder.go", fset.Position(n.Pos()))
				}
			case *ast.FuncDecl:
				if name == "names.go" {
					checkNamesFunc(t, fset, n)
				}
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("checked only %d files", checked)
	}
}

// checkNamesFunc requires every function of names.go to take only schema cache or plan values (pointers into
// the schema cache) and indexes.
func checkNamesFunc(t *testing.T, fset *token.FileSet, fn *ast.FuncDecl) {
	for _, p := range fn.Type.Params.List {
		typ := p.Type
		if star, ok := typ.(*ast.StarExpr); ok {
			typ = star.X
		}
		switch typ := typ.(type) {
		case *ast.SelectorExpr:
			if pkg, ok := typ.X.(*ast.Ident); ok && (pkg.Name == "schemacache" || pkg.Name == "plan") {
				continue
			}
		case *ast.Ident:
			if typ.Name == "int" {
				continue
			}
		}
		t.Errorf("%s: %s takes a parameter that is not a schema cache value", fset.Position(p.Pos()), fn.Name.Name)
	}
}
