// A registration burst with its accounting: many registrations in flight on a few bootstrap
// connections, each with a key made here, retried with the same key when the answer is only
// "unavailable" (a fault in progress: no responder, a timeout, a dropped connection, a replica
// restarting). A retry for a name this key already got is a renewal, so a success whose reply was
// lost is not turned into a second name. The accounting then compares every success with the
// registry: nothing lost, no name issued twice, no name registered without a success.
import type { NatsConnection } from "@nats-io/nats-core";
import { type RegisterOptions, renew } from "@natschat/client";
import {
  AccessError,
  encodeRegistryQuery,
  newUserSigner,
  PROVISIONED_SUBJECT,
  parseRegistryPage,
  REGISTRY_PAGE_MAX,
} from "@natschat/protocol";
import type { TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";

/** `n` connections as `role` that reconnect forever, so that they ride out the faults. */
export function roleConnections(
  stack: Pick<TestStack, "urls" | "creds">,
  role: string,
  n: number,
): Promise<NatsConnection[]> {
  return Promise.all(
    Array.from({ length: n }, () =>
      connectRole({
        servers: stack.urls,
        credsPath: stack.creds(role),
        inboxOwner: role,
        reconnectForever: true,
      }),
    ),
  );
}

/** Answers worth retrying with the same key: the service could not decide yet. */
const TRANSIENT = new Set(["UNAVAILABLE", "INTERNAL", "RATE_LIMITED"]);

/** One registration attempt: a name and the key made for it. */
export interface AttemptResult {
  name: string;
  key: string;
  /** "ok", or the final error code (the last one, if retries ran out). */
  outcome: string;
  tries: number;
  /** The transient codes and reasons that were retried, in order. */
  retried: string[];
  /** ms from the first try to the final answer. */
  ms: number;
}

/** Options of startBurst. */
export interface BurstOptions {
  /** Bootstrap connections to spread the requests over. */
  conns: NatsConnection[];
  /** One entry per attempt (a name listed twice is contested by two keys). */
  names: string[];
  inFlight: number;
  register: RegisterOptions;
  /** Give up retrying an attempt after this long (default 60 s). */
  retryForMs?: number;
}

/** A running burst: wait for progress, then for the results. */
export interface Burst {
  /** Resolves once `n` attempts have a final answer. */
  reached(n: number): Promise<void>;
  /** Attempts with a final answer so far. */
  readonly settled: number;
  /** Successes so far. */
  readonly ok: number;
  readonly done: Promise<AttemptResult[]>;
}

/** Starts the burst; attempts run `inFlight` at a time in the order of `names`. */
export function startBurst(opts: BurstOptions): Burst {
  const results: AttemptResult[] = new Array(opts.names.length);
  const waiters: { n: number; resolve: () => void }[] = [];
  let settled = 0;
  let ok = 0;
  let next = 0;
  const retryFor = opts.retryForMs ?? 60_000;

  const attempt = async (i: number): Promise<AttemptResult> => {
    const name = opts.names[i] as string;
    const nc = opts.conns[i % opts.conns.length] as NatsConnection;
    const { signer } = await newUserSigner();
    const started = performance.now();
    const retried: string[] = [];
    for (let tries = 1; ; tries++) {
      try {
        // renew() is the client's one request/check exchange for a given key: the first try
        // registers the name, a retry after a lost reply finds it already ours and renews it.
        const r = await renew(nc, signer, name, opts.register);
        return { name: r.name, key: signer.publicKey, outcome: "ok", tries, retried, ms: 0 };
      } catch (err) {
        const code = err instanceof AccessError ? err.code : "CLIENT_ERROR";
        const reason = err instanceof AccessError ? err.reason : (err as Error).message;
        const late = performance.now() - started > retryFor;
        if (!TRANSIENT.has(code) || late) {
          return { name, key: signer.publicKey, outcome: code, tries, retried, ms: 0 };
        }
        retried.push(code === reason ? code : `${code}/${reason}`);
        // back off a little so a fault in progress is not hammered; jitter spreads the retries
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * tries) * (0.5 + Math.random())));
      }
    }
  };

  const worker = async () => {
    for (let i = next++; i < opts.names.length; i = next++) {
      const t = performance.now();
      const r = await attempt(i);
      r.ms = performance.now() - t;
      results[i] = r;
      settled++;
      if (r.outcome === "ok") ok++;
      for (const w of waiters.filter((w) => settled >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const done = Promise.all(
    Array.from({ length: Math.min(opts.inFlight, opts.names.length) }, worker),
  ).then(() => results);
  return {
    reached: (n) =>
      settled >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    get settled() {
      return settled;
    },
    get ok() {
      return ok;
    },
    done,
  };
}

/** The names a burst asks for: `unique` names, the first `contested` of them asked by two keys. */
export function burstNames(prefix: string, unique: number, contested = 0): string[] {
  const names = Array.from({ length: unique }, (_, i) => `${prefix}${i}`);
  // the second claim of a contested name follows its first closely, so they race for real
  const out: string[] = [];
  for (const [i, n] of names.entries()) {
    out.push(n);
    if (i < contested) out.push(n);
  }
  return out;
}

/** What a burst did, and how it compares with the registry. */
export interface Accounting {
  attempts: number;
  names: number;
  successes: number;
  /** Final refusals because another key had the name (the losers of contested names). */
  taken: number;
  /** Other final outcomes by code (should be empty). */
  failed: Record<string, number>;
  /** Attempts that needed at least one retry, and the retried answers by code. */
  retriedAttempts: number;
  retries: Record<string, number>;
  /** Registered names of this burst (active, as chat.req.provisioned answers). */
  registry: number;
  /** Successes missing from the registry, or registered to another key. */
  lost: string[];
  /** Names that more than one key was told it got. */
  duplicates: string[];
  /** Names of this burst in the registry that no attempt was told it got. */
  orphans: string[];
  /** Keys registered under more than one name. */
  keysTwice: string[];
}

/** Asks the access service for the registry, page by page (`{name: key}` of every active name). */
export async function fetchRegistry(
  admin: NatsConnection,
  timeoutMs = 10_000,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let after: string | undefined;
  for (;;) {
    const q = encodeRegistryQuery({ after, limit: REGISTRY_PAGE_MAX });
    const m = await admin.request(PROVISIONED_SUBJECT, q, { timeout: timeoutMs });
    const page = parseRegistryPage(m.string());
    for (const u of page.users) if (!u.revoked) out[u.name] = u.key;
    if (!page.next) return out;
    after = page.next;
  }
}

/** Compares the attempts with the registry (restricted to the burst's names). */
export function account(results: AttemptResult[], registry: Record<string, string>): Accounting {
  const asked = new Set(results.map((r) => r.name));
  const winners = new Map<string, Set<string>>();
  const failed: Record<string, number> = {};
  const retries: Record<string, number> = {};
  let successes = 0;
  let taken = 0;
  let retriedAttempts = 0;
  for (const r of results) {
    if (r.retried.length) retriedAttempts++;
    for (const code of r.retried) retries[code] = (retries[code] ?? 0) + 1;
    if (r.outcome === "ok") {
      successes++;
      const keys = winners.get(r.name) ?? new Set<string>();
      keys.add(r.key);
      winners.set(r.name, keys);
    } else if (r.outcome === "NAME_TAKEN") taken++;
    else failed[r.outcome] = (failed[r.outcome] ?? 0) + 1;
  }
  const ours = Object.entries(registry).filter(([name]) => asked.has(name));
  const byKey = new Map<string, string[]>();
  for (const [name, key] of ours) byKey.set(key, [...(byKey.get(key) ?? []), name]);
  return {
    attempts: results.length,
    names: asked.size,
    successes,
    taken,
    failed,
    retriedAttempts,
    retries,
    registry: ours.length,
    lost: results
      .filter((r) => r.outcome === "ok" && registry[r.name] !== r.key)
      .map((r) => r.name),
    duplicates: [...winners].filter(([, keys]) => keys.size > 1).map(([name]) => name),
    orphans: ours.filter(([name]) => !winners.has(name)).map(([name]) => name),
    keysTwice: [...byKey].filter(([, names]) => names.length > 1).map(([key]) => key),
  };
}

/**
 * Asks for the registry until it agrees with the attempts (nothing lost, nothing extra) or the
 * deadline passes; returns the last accounting either way, so a test can show what differs.
 * The registry view of the answering replica is fed by a KV watch and may trail the last writes
 * by a moment; a real loss stays a loss after the deadline.
 */
export async function settleAccounting(
  admin: NatsConnection,
  results: AttemptResult[],
  timeoutMs = 10_000,
): Promise<Accounting> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let a: Accounting | undefined;
    try {
      a = account(results, await fetchRegistry(admin));
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (a && ((a.lost.length === 0 && a.orphans.length === 0) || Date.now() > deadline)) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The accounting as a few lines for a log or a README. */
export function formatAccounting(a: Accounting): string {
  const codes = (r: Record<string, number>) =>
    Object.keys(r).length === 0
      ? "none"
      : Object.entries(r)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ");
  return [
    `attempts ${a.attempts} for ${a.names} names: ${a.successes} registered, ${a.taken} refused NAME_TAKEN, other failures: ${codes(a.failed)}`,
    `retried ${a.retriedAttempts} attempts (${codes(a.retries)})`,
    `registry holds ${a.registry} of these names; lost ${a.lost.length}, issued twice ${a.duplicates.length}, registered without a success ${a.orphans.length}, keys with two names ${a.keysTwice.length}`,
  ].join("\n");
}
