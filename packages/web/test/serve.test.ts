// The web server on its own (no build, no NATS): static files from memory with gzip and cache
// headers, the single-page fallback with its CSP, /config.json with websocket URLs pointed at the
// host the browser used, clear errors, and the busy-port fallback.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  type RunningWebServer,
  runtimeConfigFromDir,
  startWebServer,
  type WebRuntimeConfig,
  WebServerError,
  websocketUrlsFor,
} from "@natschat/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CONFIG: WebRuntimeConfig = {
  websocketUrls: ["ws://127.0.0.1:9222"],
  bootstrapCreds: "-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n",
  chatAccount: `A${"B".repeat(55)}`,
  chatSigningKeys: [`A${"C".repeat(55)}`],
  channels: ["KUBECON"],
};
const SCRIPT = `console.log(${JSON.stringify("x".repeat(2000))});\n`;

let tmp: string;
let dist: string;
let server: RunningWebServer;
let broken: RunningWebServer;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(
  url: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-web-serve-"));
  dist = join(tmp, "dist");
  await mkdir(join(dist, "assets"), { recursive: true });
  await writeFile(
    join(dist, "index.html"),
    '<!doctype html><script src="/assets/app-1.js"></script>',
  );
  await writeFile(join(dist, "assets", "app-1.js"), SCRIPT);
  await writeFile(join(dist, "favicon.svg"), "<svg/>");
  await writeFile(join(dist, ".build-stamp"), "x");
  server = await startWebServer({ port: 0, distDir: dist, config: async () => CONFIG });
  broken = await startWebServer({
    port: 0,
    distDir: dist,
    config: async () => {
      throw new Error("cannot read the up state; run `natschat up` first");
    },
  });
});

afterAll(async () => {
  await server?.stop();
  await broken?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("web server", () => {
  it("serves pages of the app with a strict CSP naming the websocket URLs", async () => {
    for (const path of ["/", "/admin", "/index.html"]) {
      const r = await get(`${server.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers["content-type"]).toContain("text/html");
      expect(r.headers["cache-control"]).toBe("no-cache");
      const csp = String(r.headers["content-security-policy"]);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self' ws://127.0.0.1:9222");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-(eval|inline)/);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
    }
  });

  it("serves hashed assets gzipped and immutable, and 404s for missing files", async () => {
    const r = await get(`${server.url}/assets/app-1.js`, {
      headers: { "accept-encoding": "gzip" },
    });
    expect(r.status).toBe(200);
    expect(r.headers["content-encoding"]).toBe("gzip");
    expect(r.headers["cache-control"]).toContain("immutable");
    expect(gunzipSync(r.body).toString()).toBe(SCRIPT);
    const plain = await get(`${server.url}/assets/app-1.js`);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    expect((await get(`${server.url}/assets/nope.js`)).status).toBe(404);
    expect((await get(`${server.url}/nope.png`)).status).toBe(404);
    // Dot files of the build folder are not served.
    expect((await get(`${server.url}/.build-stamp`)).headers["content-type"]).toContain(
      "text/html",
    );
    // Paths only ever name files of the build held in memory: this is just a page of the app.
    const outside = await get(`${server.url}/../../etc/passwd`);
    expect(outside.headers["content-type"]).toContain("text/html");
    expect(outside.body.toString()).toContain("/assets/app-1.js");
  });

  it("answers GET /config.json with the runtime config, never cached", async () => {
    const r = await get(`${server.url}/config.json`);
    expect(r.status).toBe(200);
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(r.body.toString())).toEqual(CONFIG);
    const remote = await get(`${server.url}/config.json`, { headers: { host: "laptop:8080" } });
    expect(JSON.parse(remote.body.toString()).websocketUrls).toEqual(["ws://laptop:9222"]);
  });

  it("says why when there is no config, and refuses other methods", async () => {
    const r = await get(`${broken.url}/config.json`);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body.toString()).error).toContain("run `natschat up` first");
    const post = await get(`${server.url}/config.json`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("falls back from a busy port, or refuses it when strict", async () => {
    const other = await startWebServer({
      port: server.port,
      distDir: dist,
      config: async () => CONFIG,
    });
    try {
      expect(other.port).not.toBe(server.port);
      expect(other.note).toContain(`web port ${server.port} is busy`);
    } finally {
      await other.stop();
    }
    const strict = startWebServer({
      port: server.port,
      strictPort: true,
      distDir: dist,
      config: async () => CONFIG,
    });
    await expect(strict).rejects.toBeInstanceOf(WebServerError);
    await expect(strict).rejects.toThrow(/--web-port/);
  });

  it("refuses a build folder without index.html", async () => {
    const empty = join(tmp, "empty");
    await mkdir(empty);
    await expect(
      startWebServer({ port: 0, distDir: empty, config: async () => CONFIG }),
    ).rejects.toThrow(/has no index.html/);
  });
});

describe("runtime config", () => {
  it("points loopback websocket URLs at the browser's host only", () => {
    const urls = ["ws://127.0.0.1:9222", "wss://chat.example.com:443"];
    expect(websocketUrlsFor(urls, "127.0.0.1:8080")).toEqual(urls);
    expect(websocketUrlsFor(urls, "localhost:8080")).toEqual(urls);
    expect(websocketUrlsFor(urls, "10.0.0.5:8080")).toEqual([
      "ws://10.0.0.5:9222",
      "wss://chat.example.com:443",
    ]);
    expect(websocketUrlsFor(urls, undefined)).toEqual(urls);
    expect(websocketUrlsFor(urls, "bad host:x:y")).toEqual(urls);
  });

  it("is read from a data dir, with a clear error when up has not run", async () => {
    const dir = join(tmp, "data");
    await expect(runtimeConfigFromDir(dir)).rejects.toThrow(/run `natschat up`/);
    await mkdir(join(dir, "creds"), { recursive: true });
    await writeFile(
      join(dir, "up.json"),
      JSON.stringify({
        servers: [{ websocket: "ws://127.0.0.1:1" }, { websocket: "ws://127.0.0.1:2" }],
        storage: { domain: "hub", replicas: 3 },
      }),
    );
    await writeFile(join(dir, "creds", "bootstrap.creds"), CONFIG.bootstrapCreds);
    await writeFile(
      join(dir, "trust.json"),
      JSON.stringify({
        accounts: { CHAT: { publicKey: CONFIG.chatAccount, signingKeys: CONFIG.chatSigningKeys } },
      }),
    );
    const config = await runtimeConfigFromDir(dir, { channels: ["KUBECON"] });
    expect(config).toEqual({
      ...CONFIG,
      websocketUrls: ["ws://127.0.0.1:1", "ws://127.0.0.1:2"],
    });
  });
});
