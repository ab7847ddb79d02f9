#!/usr/bin/env bash
# kops's API schema, src/schema/kops-<version>.json, generated from kops's Go types by
# tools/kops-schema (built by scripts/tools.sh), and the TypeScript types generated from it,
# src/schema/kops-types.ts (by scripts/gen-kops-types.js, where that script exists). `check` also
# checks the lifecycle task types read from kops's source and binary, src/ops/kops-task-types.ts
# (scripts/gen-kops-task-types.sh).
#
#   scripts/schema.sh write     regenerate them into src/schema
#   scripts/schema.sh check     regenerate them into a temporary folder and fail if the committed
#                               files differ
#   scripts/schema.sh verify    try the generator's enum and required tables on the kops binary
#                               (tools/kops-schema/tables_test.go; needs `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMA_DIR=src/schema

# generate DIR: writes the schema and, where the type generator exists, the types into DIR, and
# prints the names of the files written.
generate() {
  local dir=$1 json
  json=$("$(scripts/tools.sh path kops-schema)" -dir "$dir")
  basename "$json"
  if [ -f scripts/gen-kops-types.js ]; then
    node scripts/gen-kops-types.js "$json" "$dir/kops-types.ts"
    echo kops-types.ts
  fi
}

case ${1:-} in
  write)
    scripts/tools.sh kops-schema
    for f in $(generate "$SCHEMA_DIR"); do echo "wrote $SCHEMA_DIR/$f"; done
    ;;
  check)
    scripts/tools.sh kops-schema
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    stale=0
    for f in $(generate "$tmp"); do
      if [ ! -f "$SCHEMA_DIR/$f" ]; then
        echo "schema: $SCHEMA_DIR/$f is missing"
        stale=1
      elif ! cmp -s "$SCHEMA_DIR/$f" "$tmp/$f"; then
        changed=$(diff "$SCHEMA_DIR/$f" "$tmp/$f" | grep -c '^[<>]' || true)
        echo "schema: $SCHEMA_DIR/$f differs from what the generator writes ($changed lines; committed -, generated +):"
        diff -u "$SCHEMA_DIR/$f" "$tmp/$f" | sed -n '3,42p'
        stale=1
      fi
    done
    if [ $stale -ne 0 ]; then
      echo "schema: run scripts/schema.sh write and commit the result (edit tools/kops-schema, not the generated files)"
      exit 1
    fi
    echo "schema: $SCHEMA_DIR is what the generator writes"
    scripts/tools.sh kops
    scripts/gen-kops-task-types.sh "" "" "$tmp/kops-task-types.ts" >/dev/null
    if ! cmp -s src/ops/kops-task-types.ts "$tmp/kops-task-types.ts"; then
      echo "schema: src/ops/kops-task-types.ts differs from what scripts/gen-kops-task-types.sh writes (committed -, generated +):"
      diff -u src/ops/kops-task-types.ts "$tmp/kops-task-types.ts" | sed -n '3,42p'
      echo "schema: run scripts/gen-kops-task-types.sh and commit the result"
      exit 1
    fi
    echo "schema: src/ops/kops-task-types.ts is what its generator writes"
    ;;
  verify)
    scripts/tools.sh kops
    [ -f dist/test/support/kops.js ] || { echo "schema: verify needs the EC2 catalogue stand-in; run npm run build first"; exit 1; }
    cd tools/kops-schema
    KOPS=$(../../scripts/tools.sh path kops) go test -count=1 -v -run 'TestEnumTable|TestRequiredTable' .
    ;;
  *)
    echo "usage: scripts/schema.sh write|check|verify" >&2
    exit 2
    ;;
esac
