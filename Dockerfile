# instruct3 trainer image: every pipeline stage runs as `instruct3 <stage args>` in this container
# (on Bacalhau, inputs are mounted at /inputs/<name> and /outputs is published to IPFS; see docs/jobs.md).
# Build:  docker build -t instruct3/trainer:0.1.0 .
# Run:    docker run --rm -v "$PWD/in:/inputs/data:ro" -v "$PWD/out:/outputs" instruct3/trainer:0.1.0 --help
# Not built in this project's CI: there is no Docker engine there. test/jobs/dockerfile.test.ts checks this file.

# Stage 1: production dependencies only. better-sqlite3 is a native addon; the compilers are here so
# `npm ci` can build it from source when no prebuilt binary can be downloaded, and stay out of the final image.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The postinstall script patches a pinned dependency (see its header), so it and the patch files it imports
# must be present for `npm ci`.
COPY scripts/postinstall.js ./scripts/postinstall.js
COPY scripts/patches ./scripts/patches
RUN npm ci --omit=dev --no-audit --no-fund

# Stage 2: the runtime. Node >= 22.18 runs the TypeScript sources directly (type stripping): no build step.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
RUN ln -s /app/bin/instruct3.js /usr/local/bin/instruct3 && chmod +x /app/bin/instruct3.js
# Scratch state (the embedded store, caches) goes to /tmp, never into /app or the published /outputs.
ENV INSTRUCT3_HOME=/tmp/instruct3
# Runs as root: Bacalhau's docker executor creates the /outputs mount on the host, and a non-root user may not be
# able to write to it. Nothing in the image listens on a port.
ENTRYPOINT ["instruct3"]
CMD ["--help"]
