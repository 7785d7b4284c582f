# coachwire server image. Runs the TypeScript sources directly with tsx (a runtime dependency),
# so the image is what `npm run cluster` runs on a developer's machine.
#   docker build -t coachwire .
#   docker run --rm -p 8080:8080 -e COACHWIRE_JWT_SECRET=<32+ characters> coachwire
# With no DATABASE_URL it uses embedded PGlite under /app/data; docker-compose.yml wires it to
# PostgreSQL and Redis and scales it by containers.
# The web app is built in a first stage (Vite is a dev dependency) and only web/dist is kept.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY web ./web
COPY protocol ./protocol
RUN npm run build:web

FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so a source change does not reinstall them (prepare skips the web build: no Vite here).
COPY package.json package-lock.json web/prepare.mjs ./
RUN mkdir -p web && mv prepare.mjs web/ && npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .
COPY --from=web /app/web/dist ./web/dist
RUN mkdir -p /app/data && chown node:node /app/data

# One server process per container (containers scale, not processes). cluster.ts still runs
# as the primary: it migrates once, restarts a crashed server with backoff and turns SIGTERM
# into a drain. Its server i listens on COACHWIRE_PORT_BASE + i, so the base is the port;
# COACHWIRE_PORT is the same for a container started with `node --import tsx server/main.ts`.
ENV COACHWIRE_SERVER_PROCESSES=1 \
    COACHWIRE_PORT_BASE=8080 \
    COACHWIRE_PORT=8080 \
    COACHWIRE_DATA_DIR=/app/data

USER node
EXPOSE 8080

# Ready = the database answers and the process is not draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.COACHWIRE_PORT_BASE || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "--import", "tsx", "server/cluster.ts"]
