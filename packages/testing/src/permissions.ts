// Test support: asks the server whether a connection may publish or subscribe to a subject.
// A denial is the server's own -ERR 'Permissions Violation', not a client-side check.
import { errors, type NatsConnection } from "@nats-io/nats-core";

export type Verdict = "allowed" | "denied";

const deniedPublishes = new WeakMap<NatsConnection, Set<string>>();

/** One status watcher per connection records the publish violations the server reports. */
function violations(nc: NatsConnection): Set<string> {
  let set = deniedPublishes.get(nc);
  if (!set) {
    const created = new Set<string>();
    set = created;
    deniedPublishes.set(nc, created);
    void (async () => {
      for await (const s of nc.status()) {
        if (
          s.type === "error" &&
          s.error instanceof errors.PermissionViolationError &&
          s.error.operation === "publish"
        ) {
          created.add(s.error.subject);
        }
      }
    })();
  }
  return set;
}

/** Publishes once; the server answers a violation with -ERR before the flush's PONG. */
export async function probePublish(nc: NatsConnection, subject: string): Promise<Verdict> {
  const seen = violations(nc);
  seen.delete(subject);
  nc.publish(subject, "probe");
  await nc.flush();
  // the -ERR arrived before that PONG, but status events are delivered through an async
  // iterator: one more round trip lets the watcher record it
  await nc.flush();
  return seen.has(subject) ? "denied" : "allowed";
}

/** Subscribes once; a denied subscription is closed by the server's violation. */
export async function probeSubscribe(nc: NatsConnection, subject: string): Promise<Verdict> {
  const sub = nc.subscribe(subject);
  await nc.flush();
  const result = await Promise.race([sub.closed, Promise.resolve("open" as const)]);
  if (result === "open") {
    sub.unsubscribe();
    return "allowed";
  }
  return result instanceof errors.PermissionViolationError ? "denied" : "allowed";
}
