#!/bin/bash
# Builds kubestep:local for the local test cluster (test/cluster: no Docker, no registry):
# the files the Dockerfile adds (scripts/image-rootfs.sh: Node 24 from the npm `node` package,
# stripped, and the bundle under /app) on a base made like gcr.io/distroless/cc-debian12 from
# this Debian 12 machine (the node binary's shared libraries, CA certificates, passwd, /tmp).
# The image config (entrypoint, cmd, working dir, labels) is the Dockerfile's; test/image.test.ts
# checks that the two agree. Skips the build when the image exists with the same content.
# Usage: build-local-image.sh [path to k8s-local]   (after npm run build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
kit=${1:-$here/../test/cluster}
S=${K8S_LOCAL_DIR:-/var/tmp/k8s-local}
tag=kubestep:local
out=$S/images/kubestep.tar
stamp=$S/images/kubestep.stamp
# Two test files may build it at once: one at a time (the second finds it up to date).
mkdir -p "$S/images"
exec 9>"$S/images/kubestep.lock"
flock 9
work=$(mktemp -d "$S/tmp-kubestep-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
bash "$here/scripts/image-rootfs.sh" "$root" "$here/node_modules/node/bin/node"

# The base: what distroless cc-debian12 gives Node (glibc, libstdc++, libgcc, CA certificates).
libs=$(ldd "$root/nodejs/bin/node" | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}')
for l in $libs; do cp -L --parents "$l" "$root/"; done
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/workspace" "$root/root" "$root/home/nonroot"
chmod 1777 "$root/tmp"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$root/etc/group"

node=$here/node_modules/node/bin/node
version=$("$node" -p 'require(process.argv[1]).version' "$here/package.json")
revision=$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)
config=$("$node" -e '
  const [version, revision] = process.argv.slice(1);
  console.log(JSON.stringify({
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
    Entrypoint: ["/nodejs/bin/node", "--max-semi-space-size=2", "--liftoff-only", "/app/kubestep.mjs"],
    Cmd: ["--help"],
    WorkingDir: "/workspace",
    Labels: {
      "org.opencontainers.image.title": "kubestep",
      "org.opencontainers.image.description": "Run test Jobs in Kubernetes as one CI step",
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.opencontainers.image.version": version,
      "org.opencontainers.image.revision": revision,
    },
  }));
' "$version" "$revision")

want=$( (cd "$root" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$config") | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] \
  && ctr --address "$S/run/containerd.sock" -n k8s.io images ls -q | grep -qx "docker.io/library/$tag"; then
  echo "$tag is up to date ($out)"
  exit 0
fi
bash "$kit/mkimage.sh" "$root" "$out" "$config" "$tag"
bash "$kit/import-image.sh" "$out"
echo "$want" >"$stamp"
echo "$tag ready"
