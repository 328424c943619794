# One image for every service; SERVICE picks which one runs (order, inventory, user, payment,
# notification, or console: the operator console's pages).
# Node 24 runs the TypeScript sources directly, so there is no build step: the first stage installs
# the services' production dependencies only (no embedded PostgreSQL, no test tools, no dev
# dependencies: packages/devtools is not installed), the second holds them and the sources.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/console/package.json packages/console/
COPY packages/devtools/package.json packages/devtools/
COPY packages/platform/package.json packages/platform/
COPY services/order/package.json services/order/
COPY services/inventory/package.json services/inventory/
COPY services/user/package.json services/user/
COPY services/notification/package.json services/notification/
COPY services/payment/package.json services/payment/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace=services/order --workspace=services/inventory --workspace=services/user \
      --workspace=services/notification --workspace=services/payment --workspace=packages/console

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY packages/contracts ./packages/contracts
COPY packages/platform ./packages/platform
COPY packages/console ./packages/console
COPY services ./services
# The Compose file's keys volume is mounted here; a new volume takes this folder's owner.
RUN mkdir -p /keys && chown node:node /keys
USER node
ENV SERVICE=order HOST=0.0.0.0 PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["sh", "-c", "if [ \"$SERVICE\" = console ]; then exec node --disable-warning=ExperimentalWarning packages/console/src/server.ts; fi; exec node --disable-warning=ExperimentalWarning --max-semi-space-size=2 --max-old-space-size=160 services/${SERVICE}/src/main.ts"]
