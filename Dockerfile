# One image for every service; SERVICE picks which one runs (order, inventory, user, payment, notification).
# Node 24 runs the TypeScript sources directly, so there is no build step.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/console/package.json packages/console/
COPY packages/platform/package.json packages/platform/
COPY services/order/package.json services/order/
COPY services/inventory/package.json services/inventory/
COPY services/user/package.json services/user/
COPY services/notification/package.json services/notification/
COPY services/payment/package.json services/payment/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY packages ./packages
COPY services ./services
USER node
ENV SERVICE=order HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["sh", "-c", "exec node --disable-warning=ExperimentalWarning --max-semi-space-size=2 --max-old-space-size=160 services/${SERVICE}/src/main.ts"]
