# One image for the worker, the ISP simulator and the demo tools (docker-compose.yml, and
# docker-compose.demo.yml for the demo). Node 24 LTS. The sources are compiled in a build stage;
# the runtime stage holds only the production dependencies and dist/: no TypeScript compiler or
# loader.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY tsconfig.json ./
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The worker's environment: src/cli/memory.ts WORKER_ENV (why, and what it was measured to do).
ENV MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY config ./config
COPY --from=build /app/dist ./dist
# Fails the build if the production image would need a compiler: prints the version from dist/.
RUN node bin/isp-park-sync.js --version
# The worker's state evidence (STATE_DIR): a volume mounted here takes this owner on first use.
RUN mkdir -p /var/lib/isp-park-sync && chown node:node /var/lib/isp-park-sync
# The image's own non-root user (uid 1000); the whole filesystem may be mounted read-only.
USER node
# Node flags of the worker: src/cli/memory.ts WORKER_NODE_FLAGS (why, and what they cost).
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/isp-park-sync.js"]
CMD ["start"]
