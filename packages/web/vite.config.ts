// Vite config of the web app. The production build goes to dist/ and is served by `natschat up`
// (src/server/serve.ts). `npm run web:dev` serves the sources with hot reload and forwards
// GET /config.json to the web server of the running `natschat up`, found through DIR/up.json.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Dev only: /config.json comes from the running `natschat up` (its up.json names the web URL). */
function runtimeConfigFromUp(): Plugin {
  const dir = resolve(process.env.NATSCHAT_DIR ?? join(repoRoot, ".natschat"));
  return {
    name: "natschat-runtime-config",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use("/config.json", (_req, res) => {
        const reply = (status: number, body: unknown) => {
          res.statusCode = status;
          res.setHeader("Content-Type", "application/json");
          res.end(JSON.stringify(body));
        };
        readFile(join(dir, "up.json"), "utf8")
          .then((text) => {
            const web = (JSON.parse(text) as { web?: string }).web;
            if (!web) throw new Error(`${dir}/up.json has no web URL; is \`natschat up\` running?`);
            return fetch(`${web}/config.json`);
          })
          .then(async (r) => reply(r.status, await r.json()))
          .catch((err: Error) =>
            reply(503, {
              error: `no runtime config: ${err.message}. Start \`npm run up\` (data dir ${dir}) first.`,
            }),
          );
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), runtimeConfigFromUp()],
  resolve: {
    alias: [
      // nats-core signs the server's connect nonce with @nats-io/nkeys, which pulls in
      // tweetnacl's large "fast" build. The browser signs once per connection there (every chat
      // signature goes through WebCrypto), so the compact build does, and saves ~4 kB of gzip.
      { find: /^tweetnacl$/, replacement: "tweetnacl/nacl.js" },
    ],
  },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
    manifest: true,
  },
  server: { port: 5173, strictPort: false },
});
