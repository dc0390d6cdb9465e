#!/bin/bash
# What the kubestep image adds to its base (a glibc + libstdc++ distroless base): the Node 24 binary
# at /nodejs/bin/node (stripped of debug symbols: 127 -> 108 MB) and the bundle under /app
# (build/, without source maps). Used by the Dockerfile's build stage and by
# scripts/build-local-image.sh, so that both images get the same files.
# Usage: image-rootfs.sh OUT_DIR NODE_BINARY   (run `npm run build` first)
set -euo pipefail
if [ $# -ne 2 ]; then sed -n '2,6p' "$0"; exit 2; fi
out=$1
node_bin=$(readlink -f "$2")
cd "$(dirname "$0")/.."
[ -f build/kubestep.mjs ] || { echo "image-rootfs.sh: no build/kubestep.mjs: run npm run build first" >&2; exit 1; }
"$node_bin" --version | grep -q '^v24\.' || { echo "image-rootfs.sh: $node_bin is not Node 24" >&2; exit 1; }
mkdir -p "$out/nodejs/bin" "$out/app/chunks"
strip -o "$out/nodejs/bin/node" "$node_bin"
chmod 0755 "$out/nodejs/bin/node"
# The bundle and its licence notices; no source maps (13 MB, of use only with a debugger).
find build -maxdepth 1 -type f \( -name '*.mjs' -o -name '*.LEGAL.txt' \) -exec install -m 0644 {} "$out/app/" \;
find build/chunks -maxdepth 1 -type f \( -name '*.mjs' -o -name '*.LEGAL.txt' \) -exec install -m 0644 {} "$out/app/chunks/" \;
chmod 0755 "$out/app/kubestep.mjs"
