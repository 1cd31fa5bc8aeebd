// Free-port discovery on loopback, and a check for a port someone else holds.
//
// Ports come from below the kernel's ephemeral range: a port the OS hands out for `listen(0)`
// is also what it hands to outgoing connections, so with routes, gateways and leafnodes dialing
// each other, a port found free a moment ago could already be some socket's local end by the time
// nats-server binds it ("address already in use"). Below the ephemeral range only listeners
// compete, and picking at random keeps parallel test processes apart.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** True when host:port can be bound right now. */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

const FALLBACK_EPHEMERAL_LOW = 32768;
const LOWEST = 15000;

function ephemeralLow(): number {
  try {
    const text = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const low = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : FALLBACK_EPHEMERAL_LOW;
  } catch {
    return FALLBACK_EPHEMERAL_LOW; // not Linux: the IANA default dynamic range starts at 49152
  }
}

const HIGHEST = ephemeralLow() - 1;
/** Ports this process handed out recently: one plan never gets the same port twice. */
const given = new Set<number>();

/** A port that can be bound now, chosen at random below the ephemeral range; callers bind it soon after. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (given.has(port)) continue;
    if (await isPortFree(port, host)) {
      given.add(port);
      if (given.size > 5000) given.clear();
      return port;
    }
  }
  throw new Error(`no free port found on ${host} between ${LOWEST} and ${HIGHEST}`);
}

/** N distinct free ports. */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) out.push(await freePort(host));
  return out;
}
