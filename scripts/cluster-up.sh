#!/usr/bin/env bash
# npm run cluster:up: a real single-node Kubernetes 1.20 on this Debian 12 machine (test/cluster,
# built from Debian's packages; ~6 min the first time, seconds afterwards), with the images the
# examples and tests use: busybox:local, node:local (this project's Node), kubestep-postgres:local
# and kubestep-db-tests:local. Needs root and `npm ci` first. State: /var/tmp/k8s-local.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kit=$root/test/cluster
node_bin=${NODE_BIN:-$root/node_modules/node/bin/node}
if [ ! -x "$node_bin" ]; then
  echo "cluster:up: $node_bin is missing: run npm ci first (node:local is built from the project's Node)" >&2
  exit 2
fi
NODE_BIN=$node_bin bash "$kit/setup.sh"
bash "$kit/up.sh"
bash "$root/images/postgres/build-local.sh" "$kit"
bash "$root/images/db-tests/build-local.sh" "$kit"
echo "cluster:up: ready. kubectl: /var/tmp/k8s-local/bin/kubectl; for kubestep and kubectl:"
echo "export KUBECONFIG=${K8S_LOCAL_DIR:-/var/tmp/k8s-local}/kubeconfig"
