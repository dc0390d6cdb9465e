#!/bin/bash
# Builds kubestep-postgres:local for the local test cluster: the same content as ./Dockerfile
# (Debian bookworm + postgresql + entrypoint.sh). Usage: build-local.sh [path to k8s-local]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../build-debian-local.sh" "${1:-$here/../../test/cluster}" \
  kubestep-postgres:local postgresql \
  '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Entrypoint":["/usr/local/bin/docker-entrypoint.sh"],"ExposedPorts":{"5432/tcp":{}}}' \
  "$here/entrypoint.sh:/usr/local/bin/docker-entrypoint.sh:0755"
