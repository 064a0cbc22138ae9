# One image for every process of the system; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
RUN npm ci --omit=dev --ignore-scripts=false && npm install --no-save tsx@4.23.15
COPY migrations ./migrations
COPY tsconfig.base.json tsconfig.json ./
USER node
