// The service's own figures, reported in $SRV.STATS (each endpoint's `data`) and shown by
// `natschat status`: per endpoint the successes, errors by code and latencies; for the service,
// refusals by reason (malformed, rate limited per address / globally / per name / per key,
// reserved, quota, …) and unexpected errors (caught, logged, counted; the service keeps serving).
import type { AccessErrorCode } from "@natschat/protocol";

/** The endpoints of the access service. */
export type Endpoint = "access" | "provisioned" | "revoke" | "lookup" | "online";

/** Latencies of the last 1024 requests, for p50/p99 in the stats. */
export class LatencyWindow {
  readonly #ms = new Float64Array(1024);
  #n = 0;
  add(ms: number): void {
    this.#ms[this.#n++ % this.#ms.length] = ms;
  }
  summary(): { p50_ms: number; p99_ms: number; samples: number } {
    const n = Math.min(this.#n, this.#ms.length);
    const sorted = [...this.#ms.subarray(0, n)].sort((a, b) => a - b);
    const at = (q: number) =>
      n === 0 ? 0 : Math.round((sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 100) / 100;
    return { p50_ms: at(0.5), p99_ms: at(0.99), samples: n };
  }
}

/** Per-endpoint figures. */
export interface EndpointFigures {
  ok: number;
  errors: Partial<Record<AccessErrorCode, number>>;
  latency: LatencyWindow;
}

/** Refusal reasons counted for abuse (stable names, shown by `natschat status`). */
export const REFUSALS = [
  "malformed",
  "no_reply",
  "bad_proof",
  "rate_address",
  "quota_address",
  "rate_global",
  "rate_name",
  "rate_key",
  "reserved",
  "quota",
  "taken",
  "revoked",
  "key_in_use",
  "replay",
  "legacy",
  "internal",
  "unavailable",
] as const;
export type Refusal = (typeof REFUSALS)[number];

/** Maps an error reply's code and finer reason to the refusal it counts as. */
export function refusalOf(code: AccessErrorCode, reason: string): Refusal {
  switch (code) {
    case "RATE_LIMITED":
      if (reason === "rate-address") return "rate_address";
      if (reason === "rate-address-names") return "quota_address";
      if (reason === "rate-name") return "rate_name";
      if (reason === "rate-key") return "rate_key";
      return "rate_global";
    case "NAME_RESERVED":
      return "reserved";
    case "REGISTRY_FULL":
      return "quota";
    case "NAME_TAKEN":
      return "taken";
    case "NAME_REVOKED":
      return "revoked";
    case "REPLAY":
      return "replay";
    case "BAD_PROOF":
      return "bad_proof";
    case "LEGACY_DISABLED":
      return "legacy";
    case "INTERNAL":
      return "internal";
    case "UNAVAILABLE":
      return "unavailable";
    default:
      if (reason === "no-reply") return "no_reply";
      return reason === "key-in-use" ? "key_in_use" : "malformed";
  }
}

/** Everything the service counts. */
export class ServiceFigures {
  readonly endpoints: Record<Endpoint, EndpointFigures>;
  readonly refusals: Record<Refusal, number>;
  /** Errors nobody expected (a bug or a broken dependency), caught and counted. */
  unexpected = 0;

  constructor() {
    const make = (): EndpointFigures => ({ ok: 0, errors: {}, latency: new LatencyWindow() });
    this.endpoints = {
      access: make(),
      provisioned: make(),
      revoke: make(),
      lookup: make(),
      online: make(),
    };
    this.refusals = Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<Refusal, number>;
  }

  ok(endpoint: Endpoint, ms: number): void {
    const f = this.endpoints[endpoint];
    f.ok++;
    f.latency.add(ms);
  }

  refused(endpoint: Endpoint, code: AccessErrorCode, reason: string, ms: number): void {
    const f = this.endpoints[endpoint];
    f.errors[code] = (f.errors[code] ?? 0) + 1;
    f.latency.add(ms);
    this.refusals[refusalOf(code, reason)]++;
  }

  /** An endpoint's `data` in $SRV.STATS. */
  data(endpoint: Endpoint): Record<string, unknown> {
    const f = this.endpoints[endpoint];
    return { ok: f.ok, errors: f.errors, ...f.latency.summary() };
  }
}
