# syntax=docker/dockerfile:1
# One image for every Tributary process: the processors, the ClickHouse sink, the notifier and the load
# generator (`docker run tributary run ingest`, `… loadgen --rate 2000`). It runs exactly what ./tributary
# runs: `node cli/bundled.mjs`, which runs `run <name>` from an esbuild bundle of the sources (no tsx
# loader thread in a long-running copy) and any other command through tsx, both runtime dependencies, so
# there is no second build to drift from the tested one.
#   build:   compiles the native addon (librdkafka from source, linked dynamically as infra/setup does),
#            typechecks the tree (the image does not build from code that fails tsc), builds the bundle,
#            drops dev dependencies
#   runtime: node, the shared libraries the addon links, the tree; no compilers, no dev dependencies, non-root
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential python3 ca-certificates \
      libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The lock and .npmrc first, so a source change does not recompile librdkafka (~2 min).
COPY package.json package-lock.json .npmrc ./
ENV CKJS_LINKING=dynamic npm_config_build_from_source=true
RUN npm ci --no-audit --no-fund --foreground-scripts \
 && node -e "require('@confluentinc/kafka-javascript')"
COPY . .
# test/ stays: the CLI's `test` command reads the fault report module from it.
RUN node_modules/.bin/tsc -p tsconfig.json --noEmit \
 && node cli/bundled.mjs --build-only \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini libssl3 zlib1g libzstd1 liblz4-1 libsasl2-2 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/tributary && chown node:node /var/lib/tributary
WORKDIR /app
# Owned by root and read-only to the process; only the state dir (a volume in compose) is writable.
COPY --from=build /app /app
# The load generator keeps each run's ground truth under .tributary/runs (a volume in compose).
RUN mkdir -p /app/.tributary && chown node:node /app/.tributary
USER node
ENV NODE_ENV=production \
    TRIBUTARY_HTTP_HOST=0.0.0.0 \
    TRIBUTARY_HTTP_PORT=9400 \
    TRIBUTARY_STATE_DIR=/var/lib/tributary \
    TRIBUTARY_CLICKHOUSE_DATA_DIR=/var/lib/tributary/clickhouse
EXPOSE 9400
# tini forwards SIGTERM to node (PID 1 ignores it by default), so `docker stop` is a clean shutdown.
ENTRYPOINT ["tini", "--", "node", "--max-old-space-size=384", "cli/bundled.mjs"]
CMD ["help"]
