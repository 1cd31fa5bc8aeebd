// A TCP proxy the tests control, put between two NATS endpoints (a gateway, a leafnode link, a
// client and its server). cut() closes every connection through it and refuses new ones while
// keeping its port, so the far side sees a real network failure and keeps retrying the same
// address; heal() lets connections through again.
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** One proxied link: listen on `port`, forward to `target`. */
export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #live = new Set<Socket>();
  #cut = false;
  #port = 0;
  /** Connections accepted and forwarded so far. */
  accepted = 0;
  /** Connections refused while cut. */
  refused = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#onClient(client));
  }

  /** Starts a proxy on a free loopback port that forwards to `target`. */
  static async start(
    target: { host?: string; port: number },
    listenHost = "127.0.0.1",
  ): Promise<TcpProxy> {
    const p = new TcpProxy({ host: target.host ?? "127.0.0.1", port: target.port });
    await new Promise<void>((resolve, reject) => {
      p.#server.once("error", reject);
      p.#server.listen(0, listenHost, () => {
        p.#server.off("error", reject);
        resolve();
      });
    });
    const addr = p.#server.address();
    if (addr === null || typeof addr === "string") throw new Error("proxy has no TCP address");
    p.#port = addr.port;
    return p;
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#port;
  }

  /** Open connections through the proxy (each counts its two sockets as one). */
  get open(): number {
    return this.#live.size / 2;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  #onClient(client: Socket): void {
    if (this.#cut) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = createConnection(this.#target);
    for (const s of [client, upstream]) {
      this.#live.add(s);
      s.setNoDelay(true);
      // either side failing ends both: a half-open link would hide the cut
      s.once("close", () => {
        this.#live.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on("error", () => {
        // the close handler above tears the pair down; nothing else to do
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Closes every connection through the proxy and refuses new ones until heal(). */
  cut(): void {
    this.#cut = true;
    for (const s of this.#live) s.destroy();
  }

  /** Lets new connections through again. */
  heal(): void {
    this.#cut = false;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
