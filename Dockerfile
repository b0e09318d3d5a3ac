# One Dockerfile for the four services; pick one with `--target`:
#
#   docker build --target orchestrator -t reporunner-orchestrator .
#   (also: builder, runner, indexer; docker-compose.yml builds all four)
#
# Stages: toolchain -> prune -> build (install, generate, compile, `pnpm deploy`
# of every service) -> one small runtime stage per service. The build stage is
# shared, so the second, third and fourth targets reuse its cached layers.
#
# Plain Dockerfile syntax only (no cache mounts, no heredocs, no `# syntax`
# line), so the classic builder and BuildKit both read it. The classic builder
# runs every stage above the target, which is why the service stages come last
# and the shared work sits in one stage.

ARG NODE_IMAGE=node:24-bookworm-slim
# Keep in step with "packageManager" in package.json and turbo in its
# devDependencies (tests/compose checks both pins).
ARG PNPM_VERSION=10.34.8
ARG TURBO_VERSION=2.11.13

# ---------------------------------------------------------------- toolchain
FROM ${NODE_IMAGE} AS toolchain
ARG PNPM_VERSION
ARG TURBO_VERSION
ENV TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    CI=true
RUN npm install --global --no-fund --no-audit --loglevel=warn \
      "pnpm@${PNPM_VERSION}" "turbo@${TURBO_VERSION}"

# -------------------------------------------------------------------- prune
# A workspace with only the four services and the packages they depend on.
# `--docker` splits it into json/ (manifests and the pruned lockfile) and
# full/ (sources), so the install below is cached until a manifest or the
# lockfile changes, whatever else the source change touches.
FROM toolchain AS prune
WORKDIR /repo
COPY . .
RUN turbo prune @reporunner/orchestrator @reporunner/builder @reporunner/runner \
      @reporunner/indexer --docker --out-dir /pruned

# -------------------------------------------------------------------- build
FROM toolchain AS build
WORKDIR /repo
COPY --from=prune /pruned/json/ ./
RUN pnpm install --frozen-lockfile

# Sources after the install. turbo prune copies workspace packages and root
# manifests only, so the root tsconfig and the protobuf sources come on their own.
COPY --from=prune /pruned/full/ ./
COPY tsconfig.base.json ./
COPY proto ./proto
RUN turbo run build --filter=@reporunner/orchestrator --filter=@reporunner/builder \
      --filter=@reporunner/runner --filter=@reporunner/indexer

# One self-contained folder per service: its package.json, its dist and its
# production dependencies, workspace packages copied in rather than linked.
# `--legacy` because pnpm 10's default deploy needs inject-workspace-packages.
RUN for service in orchestrator builder runner indexer; do \
      pnpm --filter "@reporunner/${service}" deploy --prod --legacy "/deploy/${service}" \
        || exit 1; \
    done

# ------------------------------------------------------------------ runtime
FROM ${NODE_IMAGE} AS runtime
# HOST: the services bind loopback by default; in a container the port must
# be reachable from the container network.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
EXPOSE 8080
# The health server's readiness (Redis reachable, stream lag within bounds),
# asked with Node's own fetch: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]

# ------------------------------------------------------------- orchestrator
FROM runtime AS orchestrator
COPY --from=build /deploy/orchestrator /app
USER node

# ------------------------------------------------------------ with git
# The indexer fetches repositories itself.
FROM runtime AS runtime-git
RUN apt-get update \
 && apt-get install --yes --no-install-recommends ca-certificates git \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# ------------------------------------------------------------------ indexer
FROM runtime-git AS indexer
COPY --from=build /deploy/indexer /app
USER node

# ----------------------------------------------------- with build conventions
# What the build conventions call (see services/builder): git, make, and the
# package managers of a lockfile: npm (in the base image), pnpm and Yarn 1
# (the official image already has Yarn; the install is skipped there). The
# shared workspace volume is mounted on /workspaces; the folder exists here,
# owned by node, so a new named volume starts out writable.
FROM runtime-git AS runtime-build
ARG PNPM_VERSION
ARG YARN_VERSION=1.22.22
RUN apt-get update \
 && apt-get install --yes --no-install-recommends make \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && npm install --global --no-fund --no-audit --loglevel=warn "pnpm@${PNPM_VERSION}" \
 && { command -v yarn >/dev/null \
      || npm install --global --no-fund --no-audit --loglevel=warn "yarn@${YARN_VERSION}"; } \
 && npm cache clean --force \
 && mkdir /workspaces \
 && chown node:node /workspaces
ENV WORKSPACES_DIR=/workspaces

# ------------------------------------------------------------------ builder
FROM runtime-build AS builder
COPY --from=build /deploy/builder /app
USER node

# ------------------------------------------------------------------- runner
FROM runtime-build AS runner
COPY --from=build /deploy/runner /app
USER node
