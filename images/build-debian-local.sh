#!/bin/bash
# Builds a Debian bookworm image for the local test cluster (test/cluster: no registry) the
# way a `FROM debian:bookworm-slim` + `apt-get install` + `COPY` Dockerfile does: the kit's
# debian-image.sh makes the base with the packages, the files are added, mkimage.sh and
# import-image.sh do the rest. Skips the build when the image exists from the same inputs.
# Usage: build-debian-local.sh KIT TAG 'PACKAGES' 'CONFIG JSON' SRC:DEST[:MODE]...
set -euo pipefail
if [ $# -lt 5 ]; then sed -n '2,6p' "$0"; exit 2; fi
kit=$1 tag=$2 packages=$3 config=$4
shift 4
S=${K8S_LOCAL_DIR:-/var/tmp/k8s-local}
name=${tag%%:*}
out=$S/images/$name.tar
stamp=$S/images/$name.stamp
# Contents only, not paths: a clean clone elsewhere reuses the image.
want=$( (cat "$0"; echo "$packages $config $*" | sed 's#[^ :]*/images/#images/#g'
  for spec in "$@"; do src=${spec%%:*}; if [ -d "$src" ]; then find "$src" -type f -print0 | sort -z | xargs -0 cat; else cat "$src"; fi; done) \
  | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$tag is up to date ($out)"
  exit 0
fi
# shellcheck disable=SC2086 # the package list is words
bash "$kit/debian-image.sh" "$name-base:local" $packages
base=$S/images/debian-${name}-base_local.tar
work=$(mktemp -d "$S/tmp-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
layer=$(tar -xOf "$base" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
tar -xOf "$base" "$layer" | tar --numeric-owner -C "$work/root" -xf -
for spec in "$@"; do
  IFS=: read -r src dest mode <<<"$spec"
  if [ -d "$src" ]; then
    mkdir -p "$work/root$dest" && cp -a "$src/." "$work/root$dest/"
  else
    install -D -m "${mode:-0644}" "$src" "$work/root$dest"
  fi
done
bash "$kit/mkimage.sh" "$work/root" "$out" "$config" "$tag"
bash "$kit/import-image.sh" "$out"
# The base is only an intermediate: do not keep it for later up.sh runs.
rm -f "$base"
ctr --address "$S/run/containerd.sock" -n k8s.io images rm "docker.io/library/$name-base:local" >/dev/null 2>&1 || true
echo "$want" >"$stamp"
echo "$tag ready"
