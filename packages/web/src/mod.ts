// Public surface of @natschat/web for Node: build and serve the web app with its runtime config.
// The browser app itself starts at src/app/main.tsx (see index.html); it is bundled, not imported.
export { parseRuntimeConfig, RuntimeConfigError, type WebRuntimeConfig } from "./config.ts";
export { DIST_DIR, ensureWebBuild, staleReason, WEB_ROOT } from "./server/build.ts";
export { WebServerError, type WebServerErrorCode } from "./server/errors.ts";
export { chatTrustFromSummary, runtimeConfigFromDir } from "./server/runtime-config.ts";
export {
  contentSecurityPolicy,
  type RunningWebServer,
  startWebServer,
  type WebServerOptions,
  websocketUrlsFor,
} from "./server/serve.ts";
