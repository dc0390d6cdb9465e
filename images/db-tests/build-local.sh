#!/bin/bash
# Builds kubestep-db-tests:local for the local test cluster: the same content as ./Dockerfile
# (Debian bookworm + postgresql-client + tests/). Usage: build-local.sh [path to k8s-local]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../build-debian-local.sh" "${1:-$here/../../test/cluster}" \
  kubestep-db-tests:local postgresql-client \
  '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Entrypoint":["/tests/run.sh"]}' \
  "$here/tests:/tests"
