// The key a client address is limited under (the address comes from Nats-Request-Info, parsed
// by protocol's requestInfoOf).
/**
 * The key an address is limited under: an IPv4 address as is, an IPv6 address by its /64 prefix
 * (one subscriber usually holds a whole /64, so rotating addresses inside it gains nothing).
 */
export function addressKey(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (!h.includes(":")) return h;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(h)) return h.slice(7); // IPv4-mapped
  const [head = "", tail = ""] = h.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = h.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
