# syntax=docker/dockerfile:1
#
# Pulse container image.
#
#   docker build -t pulse .
#   docker run --init -p 8080:8080 -v pulse-data:/var/lib/pulse -e PULSE_SITES=example.com pulse
#
# Debian bookworm, not alpine: uWebSockets.js (package.json aliases it to
# @trufflesuite/uws-js-unofficial) and chDB ship prebuilt binaries for glibc only.
#
# With PULSE_NATS_URL, PULSE_ELASTICSEARCH_URL and PULSE_CLICKHOUSE_URL unset, the container runs
# on the embedded defaults: a nats-server child, the JetStream event log and chDB, all under
# PULSE_DATA_DIR (mount a volume there). docker-compose.yml runs it against servers instead.
# The data dir also keeps the salt of derived visitor ids, so keep it on a volume in every setup
# (or set PULSE_VISITOR_SALT).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript to dist/ -------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# The folders of tsconfig.json's "include" that the server needs (bench/ and test/ are not).
COPY tsconfig.json ./
COPY src ./src
COPY actors ./actors
COPY infra ./infra
RUN npx tsc -p tsconfig.json

# ---- runtime: production dependencies and dist/ only ------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# nats-server is only started when PULSE_NATS_URL is unset (the embedded default).
# Debian's package (2.9) is the one the project's tests run against.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PULSE_DATA_DIR=/var/lib/pulse
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The tracker is served as it is from beside its compiled route.
COPY --from=build /app/src/edge/tracker/pulse.js ./dist/src/edge/tracker/pulse.js
# The image's own user "node" (uid 1000) owns the data dir; a named volume mounted there
# starts out with this ownership.
RUN mkdir -p /var/lib/pulse \
 && chown node:node /var/lib/pulse
USER node

EXPOSE 8080
# Liveness only; readiness (GET /readyz, 503 while draining) is for orchestrators to probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PULSE_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM drains (pending batches are stored and answered); give `docker stop` time for it,
# e.g. `docker stop -t 30`.
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
