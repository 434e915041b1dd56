# The model service image: one NestJS/Fastify process serving one ONNX model (chosen by MODEL_PATH).
# Both colors run this image; Compose gives each its own MODEL_PATH, PORT, COLOR and SOCKET_PATH.
#
#   docker build -t ml-model-service:local .
#   docker run --rm -p 8081:8081 ml-model-service:local            # blue's model, v1.0.0
#   docker run --rm -p 8082:8082 -e PORT=8082 -e COLOR=green \
#     -e MODEL_PATH=/app/models/v1.1.0/model.onnx ml-model-service:local
#
# Plain Dockerfile syntax only (no RUN --mount, no heredocs), so the classic builder that
# docker-compose 1.29 uses builds it as well as BuildKit does.

# The Node the project pins (.nvmrc), exactly. Pass a digest to build from one image and no other:
#   --build-arg NODE_IMAGE=node:26.12.1-bookworm-slim@sha256:<digest>
ARG NODE_IMAGE=node:26.12.1-bookworm-slim

# ---- build: compile the service and the libs it imports --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# No dependency's install script runs (--ignore-scripts): none is needed to build or run (native
# parts ship prebuilt in the tarballs), and one could run anything. onnxruntime-node's would fetch
# GPU binaries from nuget.org; the env and package.json's allowScripts deny it too.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_TUI=false \
    CI=true
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The service, and the deploy CLI that CD runs from this image (scripts/deploy_compose.sh).
RUN npx nx run model-service:build --output-style=stream \
 && npx nx run deploy:build --output-style=stream

# ---- prod-deps: production dependencies only, with onnxruntime's binary for this platform ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node ships binaries for every OS and CPU (288 MB); keep linux/<this arch> (~45 MB),
# then prove it still loads. typescript (23 MB) is only @trpc/server's peer dependency, for its
# types: nothing requires it at run time (the Compose suite runs the image without it).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && ort=node_modules/onnxruntime-node/bin \
 && arch="$(node -p process.arch)" \
 && find "$ort" -mindepth 3 -maxdepth 3 -type d ! -path "*/linux/$arch" -exec rm -rf {} + \
 && find "$ort" -mindepth 2 -maxdepth 2 -type d -empty -delete \
 && node -e "require('onnxruntime-node')" \
 && rm -rf node_modules/typescript \
 && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ml-model-service" \
      org.opencontainers.image.description="Serves one ONNX model over HTTP (/health, /predict, /trpc) for blue-green deployment" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8081 \
    MODEL_PATH=/app/models/v1.0.0/model.onnx
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/package.json ./package.json
# The service requires @mlbg/contract, which node finds in dist/node_modules from dist/apps/...
COPY --from=build /app/dist/apps/model-service ./dist/apps/model-service
COPY --from=build /app/dist/node_modules/@mlbg ./dist/node_modules/@mlbg
# The shipped models, one folder per version (the version comes from each file's ONNX metadata).
COPY models ./models
# The socket volume: a fresh named volume mounted here takes this folder's owner, so the service
# (not root) can create its unix socket next to nginx's live.sock/preview.sock symlinks.
RUN mkdir -p /run/mlbg && chown node:node /run/mlbg \
 && mkdir -p /app/.node-compile-cache && chown node:node /app/.node-compile-cache
USER node
# V8's compiled code of the service's modules, made now (as the user that runs it: the cache is per
# user) and read at every start, also on a read-only root filesystem: a restarted container
# compiles next to nothing (Node's module.enableCompileCache, which main.js turns on).
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN node -e "require('reflect-metadata'); require('./dist/apps/model-service/src/app/create-app')"
EXPOSE 8081
# No curl in the slim image: node's own fetch asks the readiness endpoint on whatever PORT is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8081)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# The service drains on SIGTERM: /health turns 503, in-flight requests finish, then it exits.
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/model-service/src/main.js"]
