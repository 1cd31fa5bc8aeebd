// A small static server for the built web app, plus GET /config.json with the runtime config.
// The build is read into memory at start (it is small), so a rebuild never serves half a bundle.
// Every HTML response carries a strict Content-Security-Policy: no inline script, no eval, and
// network access only to this origin and the NATS websocket URLs.
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { extname, join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { WebRuntimeConfig } from "../config.ts";
import { ensureWebBuild } from "./build.ts";
import { WebServerError } from "./errors.ts";

/** Options of startWebServer. */
export interface WebServerOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /**
   * Serve https with this certificate and key (PEM). Needed on any address but loopback: a
   * browser gives WebCrypto (the user's own Ed25519 key) only to a secure context.
   */
  tls?: { certPem: string; keyPem: string };
  /** Preferred port; 0 picks any free port. */
  port: number;
  /** Fail when the port is busy instead of falling back to a free one. */
  strictPort?: boolean;
  /** The runtime config, asked for on every GET /config.json. */
  config: () => Promise<WebRuntimeConfig>;
  /** A built app to serve; by default the production build, built first if missing or stale. */
  distDir?: string;
  log?: (line: string) => void;
}

/** A running web server. */
export interface RunningWebServer {
  url: string;
  port: number;
  /** Set when the preferred port was busy and another was used. */
  note?: string;
  stop(): Promise<void>;
}

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (!entry.name.startsWith(".")) out.push(path);
  }
  return out;
}

/** Reads a build folder into memory: URL path → asset (gzipped when it is text). */
export async function loadAssets(distDir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const path of await walk(distDir)) {
    const urlPath = `/${relative(distDir, path).split(sep).join("/")}`;
    const body = await readFile(path);
    const type = TYPES[extname(path)] ?? "application/octet-stream";
    const text = /^(text\/|application\/(json|manifest)|image\/svg)/.test(type);
    assets.set(urlPath, {
      body,
      type,
      ...(text && body.length > 512 ? { gzip: gzipSync(body, { level: 9 }) } : {}),
      // Vite names built assets by content hash, so they never change under the same name.
      immutable: urlPath.startsWith("/assets/"),
    });
  }
  if (!assets.has("/index.html")) {
    throw new WebServerError("WEB_BUILD_FAILED", `${distDir} has no index.html; rebuild the app`);
  }
  return assets;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0", "[::]"]);

/**
 * Points loopback websocket URLs at the host the browser used, so a page opened from another
 * machine (http://laptop:8080) connects to ws://laptop:9222 rather than to its own loopback.
 */
export function websocketUrlsFor(urls: string[], requestHost: string | undefined): string[] {
  if (!requestHost) return urls;
  let hostname: string;
  try {
    hostname = new URL(`http://${requestHost}`).hostname;
  } catch {
    return urls; // a malformed Host header: keep the configured URLs
  }
  if (LOOPBACK.has(hostname)) return urls;
  return urls.map((u) => {
    const url = new URL(u);
    if (!LOOPBACK.has(url.hostname)) return u;
    url.hostname = hostname;
    return url.toString().replace(/\/$/, "");
  });
}

/** The Content-Security-Policy of the app's pages. */
export function contentSecurityPolicy(websocketUrls: string[]): string {
  const ws = websocketUrls.length > 0 ? websocketUrls.join(" ") : "ws: wss:";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const COMMON_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  gzip?: Buffer,
): void {
  const useGzip = gzip !== undefined && /\bgzip\b/.test(String(req.headers["accept-encoding"]));
  const payload = useGzip ? gzip : body;
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    ...(gzip ? { Vary: "Accept-Encoding" } : {}),
    ...(useGzip ? { "Content-Encoding": "gzip" } : {}),
    "Content-Length": String(payload.length),
  });
  res.end(req.method === "HEAD" ? undefined : payload);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts serving the app and /config.json. */
export async function startWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  const host = opts.host ?? "127.0.0.1";
  const distDir = opts.distDir ?? (await ensureWebBuild(opts.log));
  const assets = await loadAssets(distDir);
  const index = assets.get("/index.html") as Asset;

  const wsUrls = async (req: IncomingMessage): Promise<string[]> => {
    try {
      return websocketUrlsFor((await opts.config()).websocketUrls, req.headers.host);
    } catch {
      return []; // the page still loads and shows the config error from /config.json
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(
        req,
        res,
        405,
        { Allow: "GET, HEAD", "Content-Type": "text/plain" },
        Buffer.from("method not allowed\n"),
      );
      return;
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/config.json") {
      let status = 200;
      let body: unknown;
      try {
        const config = await opts.config();
        body = {
          ...config,
          websocketUrls: websocketUrlsFor(config.websocketUrls, req.headers.host),
        };
      } catch (err) {
        status = 503;
        body = { error: (err as Error).message };
      }
      send(
        req,
        res,
        status,
        { "Content-Type": "application/json", "Cache-Control": "no-store" },
        Buffer.from(JSON.stringify(body)),
      );
      return;
    }
    if (path === "/healthz") {
      send(
        req,
        res,
        200,
        { "Content-Type": "text/plain", "Cache-Control": "no-store" },
        Buffer.from("ok\n"),
      );
      return;
    }
    const asset = assets.get(path);
    if (asset && path !== "/index.html") {
      send(
        req,
        res,
        200,
        {
          "Content-Type": asset.type,
          "Cache-Control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
        },
        asset.body,
        asset.gzip,
      );
      return;
    }
    if (path !== "/index.html" && (path.startsWith("/assets/") || extname(path) !== "")) {
      send(req, res, 404, { "Content-Type": "text/plain" }, Buffer.from("not found\n"));
      return;
    }
    // Any other path is a page of the single-page app (/, /admin, ...).
    send(
      req,
      res,
      200,
      {
        "Content-Type": index.type,
        "Cache-Control": "no-cache",
        "Content-Security-Policy": contentSecurityPolicy(await wsUrls(req)),
      },
      index.body,
      index.gzip,
    );
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      opts.log?.(`web: ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("internal error\n");
    });
  };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, onRequest)
    : createServer(onRequest);
  let port: number;
  let note: string | undefined;
  try {
    port = await listen(server, opts.port, host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    if (opts.strictPort) {
      throw new WebServerError(
        "WEB_PORT_BUSY",
        `web port ${opts.port} on ${host} is in use; free it, pick another with --web-port, or drop --strict-ports`,
      );
    }
    port = await listen(server, 0, host);
    note = `web port ${opts.port} is busy, using ${port}`;
  }
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${opts.tls ? "https" : "http"}://${urlHost}:${port}`,
    port,
    ...(note ? { note } : {}),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
