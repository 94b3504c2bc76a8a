# One image for the worker, the ISP simulator and the demo tools (see docker-compose.yml).
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY config ./config
COPY tsconfig.json ./
# Compiles the sources once into node_modules/.cache (bin/compiled.js) while the image is still
# writable: the processes then run plain JavaScript, without a TypeScript loader thread.
RUN node bin/isp-park-sync.js --help > /dev/null && ls node_modules/.cache/isp-park-sync/*/package.json > /dev/null
USER node
# Node flags of the worker: src/cli/memory.ts WORKER_NODE_FLAGS (why, and what they cost).
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/isp-park-sync.js"]
CMD ["start"]
