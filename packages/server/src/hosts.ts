// Bind addresses and the addresses to dial them at. `natschat up --host ADDR` binds every
// listener to ADDR; a wildcard (0.0.0.0, ::) listens on every interface but cannot be dialed as
// such under TLS (no certificate names it), so clients on this machine dial loopback, and
// teammates one of the machine's LAN addresses.
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

/** Whether `host` is a wildcard bind address (every interface). */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

/** Whether `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** The address to dial a listener bound to `host` at from this machine. */
export function dialHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/**
 * The addresses teammates reach a listener bound to `host` at: `host` itself, or for a wildcard
 * the machine's non-internal IPv4 addresses.
 */
export function reachableHosts(host: string): string[] {
  if (!isWildcardHost(host)) return [host];
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && a.family === "IPv4")
    .map((a) => (a as { address: string }).address);
}

/** Checks a --host value: an IP address or a DNS name. */
export function isHostLike(host: string): boolean {
  return (
    isIP(host) !== 0 ||
    /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
  );
}
