// Unit test of the typing relay's windows with an injected clock: one signal per interval per
// (sender, conversation), a few conversations per sender per sweep, the sweep forgets quiet
// pairs, and subjects that are not typing subjects are counted, never relayed. (The relay against
// a real server: typing.test.ts.)
import type { NatsConnection } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { silentLoggerForTests, TypingRelay } from "@natschat/history";
import { typersSubject, typingSubject, userFeedSubject } from "@natschat/protocol";
import { describe, expect, it } from "vitest";

const alice = createUser().getPublicKey();
const bob = createUser().getPublicKey();

function relay() {
  const sent: [string, string][] = [];
  let now = 1_000_000;
  // the relay only publishes on its connection: record what it would send
  const nc = {
    publish: (s: string, d: string) => void sent.push([s, d]),
  } as unknown as NatsConnection;
  const r = new TypingRelay(nc, { intervalMs: 2000, log: silentLoggerForTests, now: () => now });
  const tick = (ms: number) => {
    now += ms;
  };
  return { r, sent, tick };
}

describe("TypingRelay windows", () => {
  it("relays one per interval per (sender, conversation), with its own payload", () => {
    const { r, sent, tick } = relay();
    const inGeneral = typingSubject({ kind: "post", channel: "General" }, alice);
    const toBob = typingSubject({ kind: "dm", peer: bob }, alice);
    r.take({ subject: inGeneral });
    r.take({ subject: inGeneral });
    r.take({ subject: toBob });
    tick(1999);
    r.take({ subject: inGeneral });
    tick(1);
    r.take({ subject: inGeneral });
    expect(sent).toEqual([
      [typersSubject("General", alice), '{"ttl":6}'],
      [userFeedSubject(bob, { typing: alice }), '{"ttl":6}'],
      [typersSubject("General", alice), '{"ttl":6}'],
    ]);
    expect(r.stats).toMatchObject({ relayed: 3, dropped: 2, invalid: 0 });
  });

  it("caps one sender's conversations per sweep, forgets quiet pairs, and counts what is not typing", () => {
    const { r, sent, tick } = relay();
    for (let i = 0; i < 10; i++)
      r.take({ subject: typingSubject({ kind: "post", channel: `c${i}` }, alice) });
    expect(sent).toHaveLength(4);
    expect(r.stats.tracked).toBe(4);
    tick(2000);
    r.sweep();
    expect(r.stats.tracked).toBe(0);
    r.take({ subject: typingSubject({ kind: "post", channel: "c9" }, alice) });
    expect(sent).toHaveLength(5);
    for (const subject of [
      "chat.KUBECON.typing.posts.General",
      `chat.KUBECON.typing.posts.a.b.${alice}`,
      `chat.KUBECON.typing.dms.${alice}.${alice}`, // to oneself: nobody to tell
      `chat.KUBECON.typing.dms.bob.${alice}`,
    ])
      r.take({ subject });
    expect(r.stats.invalid).toBe(4);
    expect(sent).toHaveLength(5);
  });
});
