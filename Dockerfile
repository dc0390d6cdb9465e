# kubestep image: the CLI bundled into one file on distroless Node 24 (no shell, no npm).
# Build: docker build -t kubestep .   Run: docker run --rm -v ~/.kube:/kube -e KUBECONFIG=/kube/config kubestep run -f ...

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The bundle (build/kubestep.mjs and the chunks it loads on demand) needs no node_modules.
RUN npm run build && find build -name '*.map' -delete

FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="kubestep" \
      org.opencontainers.image.description="Run test Jobs in Kubernetes as one CI step" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /src/build/ /app/
WORKDIR /workspace
# Node is PID 1: kubestep handles SIGTERM/SIGINT itself (cleanup, then exit 143/130).
ENTRYPOINT ["/nodejs/bin/node", "/app/kubestep.mjs"]
CMD ["--help"]
