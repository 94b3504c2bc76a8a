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
USER node
ENTRYPOINT ["node", "bin/isp-park-sync.js"]
CMD ["start"]
