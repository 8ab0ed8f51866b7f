#!/usr/bin/env bash
# `npm test`: jest, with the type-check of the whole project (src, test, bench, scripts: ts-jest only transpiles)
# running alongside it on the core jest leaves idle while tests wait. Either failing fails the run.
# Arguments go to jest, e.g. `npm test -- test/unit`.
set -u
cd "$(dirname "$0")/.."

typecheck_output=$(mktemp)
trap 'rm -f "$typecheck_output"' EXIT
npx tsc -p tsconfig.json --noEmit >"$typecheck_output" 2>&1 &
typecheck=$!

npx jest "$@"
jest_status=$?

if wait "$typecheck"; then
  echo "type-check: ok (tsc -p tsconfig.json --noEmit)"
  typecheck_status=0
else
  typecheck_status=1
  echo "type-check FAILED (tsc -p tsconfig.json --noEmit):"
  cat "$typecheck_output"
fi
[ "$jest_status" -eq 0 ] && [ "$typecheck_status" -eq 0 ]
