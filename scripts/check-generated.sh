#!/usr/bin/env bash
# Fails when schema/schema.graphql or the generated SDK no longer match the code.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent schema >/dev/null
npm run --silent codegen >/dev/null
stale=$(git status --porcelain -- schema src/sdk/generated)
if [ -n "$stale" ]; then
  echo "Generated files are stale; run 'npm run generate' and commit the result:" >&2
  echo "$stale" >&2
  git --no-pager diff --stat -- schema src/sdk/generated >&2
  exit 1
fi
echo "schema/schema.graphql and src/sdk/generated are up to date."
