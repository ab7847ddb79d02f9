#!/usr/bin/env bash
# npm test: every suite runs, even after one fails, and the run fails if any suite did, so no
# failure hides another suite's results.
set -u
cd "$(dirname "$0")/.."
failed=()
echo "== scripts/schema.sh check"
scripts/schema.sh check || failed+=("schema.sh check")
echo "== scripts/check-imports.mjs"
node scripts/check-imports.mjs || failed+=("check-imports")
for config in .mocharc.json .mocharc.mocks.json .mocharc.package.json .mocharc.reliability.json; do
  echo "== mocha --config $config"
  npx mocha --config "$config" || failed+=("$config")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failing suites: ${failed[*]}"
  exit 1
fi
echo "every suite passed"
