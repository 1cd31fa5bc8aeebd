// The image of the Node parts (the access service and the web app): the workspace with its
// dependencies and the built web app, run by the `natschat` CLI. nats-server runs from the
// official NATS image through the Helm chart, not from this one.

/** Dockerfile text; build from the repository root: `docker build -f DIR/Dockerfile -t IMAGE .` */
export const DOCKERFILE = `# syntax=docker/dockerfile:1
# natschat: the access service (\`natschat access\`) and the web app (\`natschat web\`).
# Build from the repository root:  docker build -f <render dir>/Dockerfile -t natschat:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
# the CLI runs TypeScript through tsx, so dev dependencies stay; the web app is built here, once
RUN npm ci --no-audit --no-fund && npm run web:build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# no data dir in the image: secrets are mounted files, named by NATSCHAT_* variables
USER node
ENTRYPOINT ["node", "bin/natschat.js"]
CMD ["help"]
`;

/**
 * The build context is an allowlist (BuildKit reads <Dockerfile>.dockerignore next to the
 * Dockerfile): everything is left out, then only what the image builds from comes back. A data
 * dir (`init --dir ./prod-trust`) or a render can sit anywhere in the checkout, so a deny list
 * cannot name them all; key, creds, JWT and PEM files are dropped again even inside the folders
 * that come back (packages/deploy/test/build-context.test.ts resolves this with Docker's rules).
 */
export const DOCKERIGNORE = `# allowlist: nothing enters the image's build context but what is named here
*
!package.json
!package-lock.json
!tsconfig.json
!bin/natschat.js
!packages/*/package.json
!packages/*/src
!packages/web/index.html
!packages/web/vite.config.ts
!packages/web/public
# never, even inside the folders above: seeds, creds, JWTs, keys, rendered Secrets
**/*.nk
**/*.creds
**/*.jwt
**/*.pem
**/*.key
**/k8s/secrets
**/node_modules
`;
