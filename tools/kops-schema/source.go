package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// sourceLocator finds the source folder of a Go package compiled into this binary: the module
// that provides it, at the version the build used, in the module cache. Doc comments and
// constants are read from exactly the source the reflected types were compiled from.
type sourceLocator struct {
	modCache string
	modules  []*debug.Module
}

func newSourceLocator() (*sourceLocator, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, fmt.Errorf("this binary carries no build information, so the kops source it was built from cannot be found")
	}
	modCache := os.Getenv("GOMODCACHE")
	if modCache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return nil, fmt.Errorf("go env GOMODCACHE (the module cache holds the kops source read for descriptions): %w", err)
		}
		modCache = strings.TrimSpace(string(out))
	}
	return &sourceLocator{modCache: modCache, modules: info.Deps}, nil
}

// module is the dependency that provides pkgPath: the one with the longest matching path.
func (l *sourceLocator) module(pkgPath string) (*debug.Module, error) {
	var best *debug.Module
	for _, m := range l.modules {
		if (pkgPath == m.Path || strings.HasPrefix(pkgPath, m.Path+"/")) && (best == nil || len(m.Path) > len(best.Path)) {
			best = m
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no module in this binary's build provides package %s", pkgPath)
	}
	return best, nil
}

// version is the version of the module providing pkgPath.
func (l *sourceLocator) version(pkgPath string) (string, error) {
	m, err := l.module(pkgPath)
	if err != nil {
		return "", err
	}
	if m.Replace != nil {
		return "", fmt.Errorf("module %s is replaced by %s; the schema is only generated from released kops", m.Path, m.Replace.Path)
	}
	return m.Version, nil
}

// dir is the folder holding pkgPath's source.
func (l *sourceLocator) dir(pkgPath string) (string, error) {
	m, err := l.module(pkgPath)
	if err != nil {
		return "", err
	}
	root := filepath.Join(l.modCache, escapeModulePath(m.Path)+"@"+m.Version)
	if m.Replace != nil {
		if m.Replace.Version == "" {
			root = m.Replace.Path
		} else {
			root = filepath.Join(l.modCache, escapeModulePath(m.Replace.Path)+"@"+m.Replace.Version)
		}
	}
	dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkgPath, m.Path), "/")))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("the source of %s is not in the module cache at %s (run `go mod download %s@%s`)", pkgPath, dir, m.Path, m.Version)
	}
	return dir, nil
}

// escapeModulePath spells a module path as the module cache does: capitals as "!" and the lower
// case letter (golang.org/x/mod/module.EscapePath, for the paths that occur here).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
