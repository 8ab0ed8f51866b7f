# syntax=docker/dockerfile:1
# coder-scim-bridge image. Build: docker build -t coder-scim-bridge .
# Run:   docker run --env-file config/example.env -p 8080:8080 coder-scim-bridge [all|serve|worker|resync|check]
# Secrets are never baked in: pass them at run time (*_FILE variables pointing at mounted files are preferred).
# Node 24 LTS, pinned by digest so a rebuild cannot silently pick up another image (Node 20 is past its end of
# life since 2026-04-30). The digest is the multi-platform index of docker.io/library/node:24-slim (Node 24.21.0)
# as published on Docker Hub on 2026-09-28: found with a code search of public GitHub repositories, where BuildKit
# logs show it resolved from docker.io and many Dockerfiles pin it; it was not pulled from here (no registry
# access). To update: `docker buildx imagetools inspect node:24-slim` and replace tag and digest together.
ARG NODE_IMAGE=node:24-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script at run time (msgpackr falls back to pure JS).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Numeric uid (the image's "node" user) so Kubernetes runAsNonRoot can verify it without a runAsUser.
USER 1000:1000
EXPOSE 8080
# slim images have no curl; node itself probes the unauthenticated liveness endpoint (https when TLS is on).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require(process.env.TLS_CERT_FILE ? 'node:https' : 'node:http').get({ host: '127.0.0.1', port: process.env.PORT || 8080, path: '/healthz', rejectUnauthorized: false, timeout: 4000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["all"]
