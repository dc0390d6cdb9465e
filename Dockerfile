# kubestep image: Node 24 and the bundled CLI on a distroless base (no shell, no npm, no build
# tools); ~140 MB uncompressed. scripts/build-local-image.sh builds the same content for the local
# test cluster, and test/image.test.ts checks that the two agree.
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t kubestep .
#   docker run --rm -v ~/.kube:/kube:ro -e KUBECONFIG=/kube/config -v "$PWD:/workspace" kubestep run -f ...

# Base images pinned by digest (the tag is for people; Docker uses the digest); Dependabot's docker
# ecosystem (.github/dependabot.yml) proposes new digests.
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Also installs the npm `node` package: the Node 24 binary that the image ships.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && bash scripts/image-rootfs.sh /rootfs node_modules/node/bin/node

# glibc, libstdc++, CA certificates; runs as root, as CI step images do (GitHub Actions' Docker
# actions must, to write the workspace); pass --user 65532 to docker run for a non-root user.
FROM gcr.io/distroless/cc-debian12@sha256:b7550f0b15838de14c564337eef2b804ba593ae55d81ca855421bd52f19bb480
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kubestep" \
      org.opencontainers.image.description="Run test Jobs in Kubernetes as one CI step" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /rootfs/ /
WORKDIR /workspace
# Node is PID 1: kubestep handles SIGTERM/SIGINT itself (cleanup, then exit 143/130).
# --max-semi-space-size=2 (MiB): V8's young generation otherwise grows to 2 x 16 MiB while logs
# stream; capped, a run's peak RSS is ~10 MiB lower at the same throughput (npm run bench).
# --liftoff-only: undici parses HTTP with llhttp compiled to WebAssembly, and V8 recompiles it
# with TurboFan in a background thread that Node waits for at exit: without the flag a short run
# exits ~30 ms later and peaks ~10-15 MiB higher, at the same log throughput (README: Performance).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=2", "--liftoff-only", "/app/kubestep.mjs"]
CMD ["--help"]
