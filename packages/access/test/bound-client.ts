// A tiny NATS client whose socket is bound to a chosen local address (127.0.0.2, 127.0.0.3, …),
// so tests can be "many clients behind many addresses" on one machine: every 127.0.0.x is local,
// and the server sees each as the client's host. Why not @nats-io/transport-node: its socket is
// made by `net.createConnection(port, host)` with no local-address option (checked in
// node_transport.js of 3.4), so it always binds the default address. Authentication is still the
// library's: nats-core's credsAuthenticator signs the server's nonce. Only what the tests need:
// CONNECT, PING/PONG, one inbox subscription, PUB with or without a reply, MSG and HMSG.
import { createConnection, type Socket } from "node:net";
import { credsAuthenticator } from "@nats-io/nats-core";

/** A reply: its body and its headers (name → value), empty when it had none. */
export interface BoundReply {
  body: string;
  headers: Record<string, string>;
}

export class BoundClient {
  readonly #socket: Socket;
  readonly #inbox: string;
  #buf = Buffer.alloc(0);
  #n = 0;
  readonly #waiting = new Map<string, (r: BoundReply) => void>();
  #onLine: ((line: string) => void) | undefined;

  private constructor(socket: Socket, inbox: string) {
    this.#socket = socket;
    this.#inbox = inbox;
    socket.on("data", (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#parse();
    });
  }

  /** Connects from `localAddress` with creds (text), subscribing to `<inboxPrefix>.bound.>`. */
  static async connect(opts: {
    url: string;
    localAddress: string;
    creds: Uint8Array;
    inboxPrefix: string;
  }): Promise<BoundClient> {
    const u = new URL(opts.url.replace(/^nats:/, "http:"));
    const socket = createConnection({
      host: u.hostname,
      port: Number(u.port),
      localAddress: opts.localAddress,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const c = new BoundClient(
      socket,
      `${opts.inboxPrefix}.bound${Math.random().toString(36).slice(2)}`,
    );
    const info = JSON.parse((await c.#line()).replace(/^INFO\s+/, "")) as { nonce?: string };
    const auth = credsAuthenticator(opts.creds)(info.nonce);
    const connect = {
      verbose: false,
      pedantic: false,
      headers: true,
      no_responders: true,
      protocol: 1,
      lang: "bound-test",
      version: "0",
      ...auth,
    };
    socket.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
    const answer = await c.#line();
    if (answer !== "PONG") throw new Error(`server refused the connection: ${answer}`);
    c.#onLine = undefined;
    socket.write(`SUB ${c.#inbox}.> 1\r\nPING\r\n`);
    const pong = await c.#line();
    if (pong !== "PONG") throw new Error(`server refused the subscription: ${pong}`);
    c.#onLine = undefined;
    return c;
  }

  #line(): Promise<string> {
    return new Promise((resolve) => {
      this.#onLine = resolve;
      this.#parse();
    });
  }

  #parse(): void {
    for (;;) {
      const end = this.#buf.indexOf("\r\n");
      if (end < 0) return;
      const line = this.#buf.subarray(0, end).toString();
      const parts = line.split(" ");
      const op = parts[0];
      if (op === "MSG" || op === "HMSG") {
        // MSG subject sid [reply] size | HMSG subject sid [reply] header-size total-size
        const total = Number(parts.at(-1));
        const hlen = op === "HMSG" ? Number(parts.at(-2)) : 0;
        const subject = parts[1] as string;
        if (this.#buf.length < end + 2 + total + 2) return; // wait for the payload
        const payload = this.#buf.subarray(end + 2, end + 2 + total);
        this.#buf = this.#buf.subarray(end + 2 + total + 2);
        const headers: Record<string, string> = {};
        for (const h of payload.subarray(0, hlen).toString().split("\r\n").slice(1)) {
          const i = h.indexOf(":");
          if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
        }
        this.#waiting.get(subject)?.({ body: payload.subarray(hlen).toString(), headers });
        this.#waiting.delete(subject);
        continue;
      }
      this.#buf = this.#buf.subarray(end + 2);
      if (line === "PING") {
        this.#socket.write("PONG\r\n");
        continue;
      }
      const cb = this.#onLine;
      if (cb && line !== "+OK") {
        this.#onLine = undefined;
        cb(line);
      }
    }
  }

  /** Publishes without a reply subject. */
  publish(subject: string, body: string | Uint8Array): void {
    const data = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
    this.#socket.write(
      Buffer.concat([Buffer.from(`PUB ${subject} ${data.length}\r\n`), data, Buffer.from("\r\n")]),
    );
  }

  /** Sends a request and waits for its reply. */
  request(subject: string, body: string, timeoutMs = 10_000): Promise<BoundReply> {
    const reply = `${this.#inbox}.${++this.#n}`;
    const data = Buffer.from(body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(reply);
        reject(new Error(`no reply on ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(reply, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#socket.write(
        Buffer.concat([
          Buffer.from(`PUB ${subject} ${reply} ${data.length}\r\n`),
          data,
          Buffer.from("\r\n"),
        ]),
      );
    });
  }

  /** Round trip: everything sent before has reached the server. */
  async flush(): Promise<void> {
    const got = this.#line();
    this.#socket.write("PING\r\n");
    const line = await got;
    if (line !== "PONG") throw new Error(`expected PONG, got ${line}`);
  }

  close(): void {
    this.#socket.destroy();
  }
}
