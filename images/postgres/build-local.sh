#!/bin/bash
# Builds kubestep-postgres:local for the local test cluster (../shared/k8s-local, no registry):
# the same content as ./Dockerfile (Debian bookworm + postgresql + entrypoint.sh), made with the
# kit's debian-image.sh and mkimage.sh, then imported. Skips the build when the image exists with
# this entrypoint already. Usage: build-local.sh [path to k8s-local]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kit=${1:-$here/../../../shared/k8s-local}
S=${K8S_LOCAL_DIR:-/var/tmp/k8s-local}
tag=kubestep-postgres:local
out=$S/images/kubestep-postgres.tar
stamp=$S/images/kubestep-postgres.stamp
want=$(cat "$here/entrypoint.sh" "$0" | sha256sum | cut -c1-16)   # contents only, not paths
if [ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$tag is up to date ($out)"
  exit 0
fi
bash "$kit/debian-image.sh" kubestep-postgres-base:local postgresql
base=$S/images/debian-kubestep-postgres-base_local.tar
work=$(mktemp -d "$S/tmp-kubestep-postgres.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
layer=$(tar -xOf "$base" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
tar -xOf "$base" "$layer" | tar --numeric-owner -C "$work/root" -xf -
install -m 0755 "$here/entrypoint.sh" "$work/root/usr/local/bin/docker-entrypoint.sh"
bash "$kit/mkimage.sh" "$work/root" "$out" \
  '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Entrypoint":["/usr/local/bin/docker-entrypoint.sh"],"ExposedPorts":{"5432/tcp":{}}}' "$tag"
bash "$kit/import-image.sh" "$out"
# The base is only an intermediate: do not keep it for later up.sh runs.
rm -f "$base"
ctr --address "$S/run/containerd.sock" -n k8s.io images rm docker.io/library/kubestep-postgres-base:local >/dev/null 2>&1 || true
echo "$want" >"$stamp"
echo "$tag ready"
