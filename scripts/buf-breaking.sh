#!/usr/bin/env bash
# Checks proto/ for breaking changes against the last published contract.
# The baseline is the main branch (origin/main when it exists, else main); when
# HEAD is main itself, the commit before it. With no earlier version of proto/
# there is nothing to compare with, and the script says so.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"

pick_baseline() {
  local ref
  for ref in origin/main main; do
    if git rev-parse --verify --quiet "$ref^{commit}" >/dev/null &&
      [ "$(git rev-parse "$ref")" != "$(git rev-parse HEAD)" ]; then
      echo "$ref"
      return
    fi
  done
  if git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then echo 'HEAD~1'; fi
}

baseline=$(pick_baseline)
if [ -z "$baseline" ] || ! git cat-file -e "$baseline:proto/buf.yaml" 2>/dev/null; then
  echo "buf breaking: skipped, no earlier version of proto/ to compare with"
  exit 0
fi
commit=$(git rev-parse "$baseline")
echo "buf breaking: comparing proto/ with $baseline ($commit)"
buf=$root/packages/contracts/node_modules/.bin/buf
"$buf" breaking proto --against "$root/.git#ref=$commit,subdir=proto"
echo "buf breaking: no breaking changes"
