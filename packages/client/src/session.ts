// ChatSession: the one chat session model that the terminal and web UIs share.
//
// API (isomorphic: Node and browsers; the NATS connection is injected):
//
//   const session = new ChatSession({ jwt, seed }, {
//     servers: "nats://127.0.0.1:4222",      // or ws://… in a browser
//     connect,                                // (opts: ConnectionOptions) => Promise<NatsConnection>:
//                                             //   Node: connect from @nats-io/transport-node,
//                                             //   browser: wsconnect from @nats-io/nats-core
//     chatAccount: "A…",                      // the CHAT account key (trust.json / web config)
//     chatSigningKeys: ["A…"],                // the CHAT account's signing keys
//     channels?: ["KUBECON", "NATS", "General"],  // DEFAULT_CHANNELS
//     historySize?: 100,                      // last N posts per channel, and of the own DMs
//   });
//   await session.start();          // connects, subscribes, announces; history loads after
//   session.state                   // "connecting" | "connected" | "reconnecting"
//                                   // | "revoked" | "expired" | "closed"
//   session.reason                  // why it is in that state (set for the last three)
//   session.me                      // { key, name }: the issued name of our own key
//   await session.send("#KUBECON", "hi")   // a channel: "#NAME" or "NAME"
//   await session.send("@U…", "hi")        // a DM: "@<user key>" or the bare "U…" key
//   session.select("#NATS")                // the conversation on screen; clears its unread
//   const off = session.onChange(() => …)  // called (batched, once per microtask) on changes
//   session.snapshot()                     // immutable ChatSnapshot; the same object until the
//                                          // next change (fit for React useSyncExternalStore)
//   await session.historyLoaded()          // resolves when every history read has finished
//   await session.closed()                 // resolves with { state, reason } once it stops
//   await session.stop()                   // says goodbye, drains, state "closed"
//
// Snapshot: { version, state, reason, me, selected, channels[], dms[], users[], drops, dropped,
// notice }. A conversation view has id, kind, title, messages (time, sender key, issued name or
// undefined, display label, text, mine, claimedOther), unread, history state, and for DMs the
// peer key and online flag. `users` lists every known key with its issued name, online flag and
// lastSeen. `drops` counts rejected messages by reason.
//
// Identity (security property 3): a sender is shown only under the name the access service
// issued for its key. Presence carries the sender's issued user JWT (`nats.ujwt`), checked with
// checkIssuedUserJwt against the CHAT signing keys; until a key's identity is known its messages
// are labelled with the key's short form (`~UABCD…WXYZ`), never with the name they claim.
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import {
  type ConnectionOptions,
  errors,
  jwtAuthenticator,
  type Msg,
  type NatsConnection,
  type Status,
} from "@nats-io/nats-core";
import {
  DEFAULT_CHANNELS,
  DM_TYPE,
  DMS_PREFIX,
  type DmEnvelope,
  decodeJwtUnverified,
  dmSubject,
  EnvelopeVerifier,
  encodeDm,
  encodePost,
  encodePresence,
  inboxPrefixFor,
  isPublicKey,
  isValidChannel,
  ONLINE_SUBJECT,
  POST_TYPE,
  POSTS_PREFIX,
  type PostEnvelope,
  PRESENCE_INTERVAL_SECONDS,
  PRESENCE_TTL_SECONDS,
  PRESENCE_TYPE,
  type PresenceEnvelope,
  postsSubject,
  RESENT_HEADER,
  type Signer,
  signerFromSeed,
  type VerifyResult,
  validateChannel,
} from "@natschat/protocol";
import { Conversation, type HistoryState, type MessageRecord } from "./conversation.ts";
import { ChatError } from "./errors.ts";
import { readLastNRetrying } from "./history.ts";
import { IdentityCache, shortKey } from "./identity.ts";
import { jetStreamStore, Outbox, storeMsgId } from "./outbox.ts";
import { renew } from "./register.ts";
import { RENEW_BEFORE_MS } from "./renewal.ts";

/** Names of the history streams (mirrors @natschat/trust; the client stays isomorphic). */
export const POSTS_STREAM = "CHAT_POSTS";
export const DMS_STREAM = "CHAT_DMS";

/** Where a session stands. The last three are final. */
export type SessionState =
  | "connecting"
  | "connected"
  | "reconnecting"
  | "revoked"
  | "expired"
  | "closed";

const FINAL: readonly SessionState[] = ["revoked", "expired", "closed"];

/** Opens a NATS connection: `connect` (Node) or `wsconnect` (browser). */
export type ConnectFn = (opts: ConnectionOptions) => Promise<NatsConnection>;

/** The credentials of a chat user: its issued user JWT and its own user seed. */
export interface ChatCreds {
  jwt: string;
  seed: string;
}

/** Options of ChatSession. */
export interface ChatSessionOptions {
  servers: string | string[];
  connect: ConnectFn;
  /** The CHAT account public key. */
  chatAccount: string;
  /** The CHAT account's signing keys: only user JWTs they signed name anyone. */
  chatSigningKeys: readonly string[];
  /** Channels to join (default DEFAULT_CHANNELS). */
  channels?: readonly string[];
  /** Posts of history per channel, and DMs of history (default 100). */
  historySize?: number;
  /** Most messages kept per conversation (default 1000). */
  maxMessages?: number;
  /** Presence interval, ms (default 30 s). */
  presenceIntervalMs?: number;
  /** Presence lifetime, s (default 60). */
  presenceTtlSeconds?: number;
  /** How often silent users are expired, ms (default 5 s). */
  sweepIntervalMs?: number;
  /** Longest random delay before answering a newcomer's first announcement, ms (default 200). */
  answerDelayMs?: number;
  /** Connection name shown by the server (default "natschat-chat"). */
  name?: string;
  /** First connect timeout, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Extra connection options (e.g. tls), merged under the session's own. */
  connectionOptions?: Partial<ConnectionOptions>;
  /**
   * JetStream domain of the history streams ("hub" in every natschat topology). Required on an
   * edge (leaf) server, which has no JetStream and forwards only domain-prefixed API requests.
   */
  jetstreamDomain?: string;
  /**
   * Called with the new creds after the session renewed its user JWT (see renewAt): a UI that
   * keeps the creds (a file, the browser's storage) saves them here. The seed is unchanged.
   */
  onRenewed?: (creds: ChatCreds) => void;
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

/** Longest timer the session sets at once (setTimeout caps near 24.8 days); it re-checks after. */
const MAX_TIMER_MS = 6 * 3600 * 1000;
/** Wait before another try after a renewal that did not work. */
const RENEW_RETRY_MS = 60_000;
const RENEW_FAILED = "could not renew the credentials yet";
const UNSTORED = "not saved to history yet";
/** Wait before a backfill after signs of a healed link (repeats are being stored meanwhile). */
const GAP_BACKFILL_DELAY_MS = 1000;
/** Wait before another try when that backfill could not read the history. */
const GAP_BACKFILL_RETRY_MS = 10_000;

/**
 * When a session renews a user JWT issued at `iat` and expiring at `exp` (s): a quarter of its
 * lifetime before it expires, but no earlier than RENEW_BEFORE_MS before (a day, for the usual
 * 30 days). Undefined for a JWT that does not expire.
 */
export function renewAt(claims: { iat?: number; exp?: number }): number | undefined {
  if (!claims.exp) return undefined;
  const lifetimeMs = (claims.exp - (claims.iat ?? claims.exp)) * 1000;
  return claims.exp * 1000 - Math.min(RENEW_BEFORE_MS, lifetimeMs / 4);
}

/** Who we are. */
export interface Me {
  key: string;
  /** The issued name of our key (empty until start() checked our user JWT). */
  name: string;
}

/** A message as the UIs show it. */
export interface MessageView {
  id: string;
  /** Sender's user key. */
  from: string;
  /** The issued name of the sender, or undefined while its identity is unknown. */
  name: string | undefined;
  /** What to show as the sender: the issued name, or the key's short form (`~UABCD…WXYZ`). */
  display: string;
  text: string;
  /** Sender's signing time, ms since the epoch. */
  time: number;
  mine: boolean;
  /** The message claims a name other than the sender's issued name (shown under the issued). */
  claimedOther: boolean;
  /** Stream sequence, for messages from history. */
  seq?: number;
}

/** A channel or DM as the UIs show it. */
export interface ConversationView {
  /** "#CHANNEL" or "@<user key>". */
  id: string;
  kind: "channel" | "dm";
  /** Channel name, or the peer's display label. */
  title: string;
  /** DMs: the peer's user key. */
  peer?: string;
  /** DMs: whether the peer is online. */
  online?: boolean;
  messages: readonly MessageView[];
  unread: number;
  history: HistoryState;
}

/** A known user. */
export interface UserView {
  key: string;
  /** Issued name, if known. */
  name: string | undefined;
  display: string;
  online: boolean;
  /** When we last heard its presence, ms since the epoch. */
  lastSeen: number | undefined;
  me: boolean;
}

/** Everything a UI renders; immutable, and the same object until something changes. */
export interface ChatSnapshot {
  version: number;
  state: SessionState;
  reason: string | undefined;
  me: Me;
  selected: string;
  channels: readonly ConversationView[];
  dms: readonly ConversationView[];
  users: readonly UserView[];
  /** Rejected messages by reason. */
  drops: Readonly<Record<string, number>>;
  /** All rejected messages. */
  dropped: number;
  /** The last non-fatal problem (e.g. a denied publish), for a status line. */
  notice: string | undefined;
}

interface UserRecord {
  key: string;
  /** Presence expiry, ms; 0 when we never heard its presence. */
  exp: number;
  lastSeen: number | undefined;
  online: boolean;
}

/** "#NAME" for a channel. */
export function channelId(channel: string): string {
  return `#${channel}`;
}

/** "@<key>" for a DM peer. */
export function dmId(peerKey: string): string {
  return `@${peerKey}`;
}

/** Parses "#NAME", "NAME", "@U…" or "U…" into a conversation target. */
export function parseTarget(
  target: string,
): { kind: "channel"; channel: string } | { kind: "dm"; peer: string } {
  const t = target.trim();
  const bare = t.startsWith("@") || t.startsWith("#") ? t.slice(1) : t;
  if (!t.startsWith("#") && isPublicKey(bare, "U")) return { kind: "dm", peer: bare };
  if (t.startsWith("@")) {
    throw new ChatError("CHAT_BAD_TARGET", `"${t.slice(0, 60)}" is not "@" followed by a user key`);
  }
  if (!isValidChannel(bare)) {
    throw new ChatError(
      "CHAT_BAD_TARGET",
      `"${t.slice(0, 40)}" is neither a channel ("#NAME": letters, digits, '-', '_') nor a user key`,
    );
  }
  return { kind: "channel", channel: bare };
}

// Live messages older than this are dropped as stale: it stays inside the verifier's replay
// window (300 s) minus its clock skew (30 s), so an old message cannot be replayed live.
const LIVE_MAX_AGE_SECONDS = 240;

/** The chat session: connection, channels, DMs, presence, history and identities. */
export class ChatSession {
  #creds: ChatCreds;
  readonly #opts: Required<
    Omit<
      ChatSessionOptions,
      "connectionOptions" | "name" | "servers" | "connect" | "jetstreamDomain" | "onRenewed"
    >
  > &
    Pick<
      ChatSessionOptions,
      "connectionOptions" | "name" | "servers" | "connect" | "jetstreamDomain" | "onRenewed"
    >;
  readonly #live: EnvelopeVerifier;
  /** Verifies repeats (RESENT_HEADER); its replay and age drops are not counted as drops. */
  readonly #resent: EnvelopeVerifier;
  readonly #outbox: Outbox;
  /** Drops of history reads, by reason. */
  readonly #historyDrops = new Map<string, number>();
  readonly #identities: IdentityCache;
  readonly #own = new Map<string, number>();
  readonly #conversations = new Map<string, Conversation>();
  readonly #users = new Map<string, UserRecord>();
  readonly #listeners = new Set<() => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #me: Me;
  #signer: Signer | undefined;
  #nc: NatsConnection | undefined;
  #state: SessionState = "connecting";
  #reason: string | undefined;
  #notice: string | undefined;
  #selected: string;
  #version = 0;
  #identityVersion = 0;
  #snapshot: ChatSnapshot | undefined;
  #notifyQueued = false;
  #chain: Promise<void> = Promise.resolve();
  #answerTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #stopping = false;
  #everConnected = false;
  #historyDone: Promise<unknown> = Promise.resolve();
  #closedResolve!: (r: { state: SessionState; reason: string | undefined }) => void;
  readonly #closed: Promise<{ state: SessionState; reason: string | undefined }>;
  readonly #viewCache = new Map<string, { key: string; view: ConversationView }>();
  /** True until the DM history read has finished; DM conversations made later need none. */
  #dmHistoryPending = true;
  /** Signs of a link that was down arrived since the last backfill began (see #suspectGap). */
  #gapSuspected = false;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(creds: ChatCreds, options: ChatSessionOptions) {
    if (!options.chatAccount || options.chatSigningKeys.length === 0) {
      throw new ChatError(
        "CHAT_BAD_OPTIONS",
        "the CHAT account key and its signing keys are needed to check who sent what (see trust.json)",
      );
    }
    this.#creds = creds;
    this.#opts = {
      channels: options.channels ?? DEFAULT_CHANNELS,
      historySize: options.historySize ?? 100,
      maxMessages: options.maxMessages ?? 1000,
      presenceIntervalMs: options.presenceIntervalMs ?? PRESENCE_INTERVAL_SECONDS * 1000,
      presenceTtlSeconds: options.presenceTtlSeconds ?? PRESENCE_TTL_SECONDS,
      sweepIntervalMs: options.sweepIntervalMs ?? 5000,
      answerDelayMs: options.answerDelayMs ?? 200,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      now: options.now ?? Date.now,
      chatAccount: options.chatAccount,
      chatSigningKeys: options.chatSigningKeys,
      servers: options.servers,
      connect: options.connect,
      ...(options.name ? { name: options.name } : {}),
      ...(options.connectionOptions ? { connectionOptions: options.connectionOptions } : {}),
      ...(options.jetstreamDomain ? { jetstreamDomain: options.jetstreamDomain } : {}),
      ...(options.onRenewed ? { onRenewed: options.onRenewed } : {}),
    };
    const channels = this.#opts.channels.map(validateChannel);
    if (channels.length === 0) {
      throw new ChatError("CHAT_BAD_OPTIONS", "give at least one channel to join");
    }
    const now = this.#opts.now;
    this.#live = new EnvelopeVerifier({ now, maxAgeSeconds: LIVE_MAX_AGE_SECONDS });
    this.#resent = new EnvelopeVerifier({ now, maxAgeSeconds: LIVE_MAX_AGE_SECONDS });
    this.#outbox = new Outbox({
      store: jetStreamStore(() => this.#nc),
      onPending: (n) => this.#onUnstored(n),
    });
    this.#identities = new IdentityCache({
      chatAccount: this.#opts.chatAccount,
      chatSigningKeys: this.#opts.chatSigningKeys,
      now,
    });
    this.#me = { key: userKeyOf(creds.jwt), name: "" };
    for (const c of channels) this.#conversation(channelId(c));
    this.#selected = channelId(channels[0] as string);
    this.#closed = new Promise((resolve) => {
      this.#closedResolve = resolve;
    });
  }

  /** Where the session stands. */
  get state(): SessionState {
    return this.#state;
  }

  /** Why it is in that state (set when revoked, expired or closed). */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Our key and issued name. */
  get me(): Me {
    return this.#me;
  }

  /** Connects, subscribes, announces presence and starts loading history. */
  async start(): Promise<void> {
    if (this.#started) throw new ChatError("CHAT_BAD_OPTIONS", "start() was already called");
    this.#started = true;
    this.#signer = await signerFromSeed(this.#creds.seed).catch((err: unknown) => {
      throw new ChatError("CHAT_CREDS_MISMATCH", `the user seed does not decode: ${message(err)}`);
    });
    if (this.#signer.publicKey !== this.#me.key) {
      throw new ChatError(
        "CHAT_CREDS_MISMATCH",
        "the seed and the user JWT are for different keys; get the creds file again",
      );
    }
    const mine = await this.#identities.learn(this.#me.key, this.#creds.jwt);
    if (!mine.ok) {
      throw new ChatError(
        "CHAT_NOT_CHAT_USER",
        `these creds are not a chat user of this CHAT account: ${mine.detail}`,
      );
    }
    this.#me = { key: this.#me.key, name: mine.identity.name };
    this.#touchUser(this.#me.key);
    this.#identityVersion++;
    this.#changed();

    const nc = await this.#connect();
    if (this.#stopping || FINAL.includes(this.#state)) {
      // stop() was called while we were connecting
      await nc.close().catch(() => undefined);
      throw new ChatError("CHAT_STOPPED", "the session was stopped before it connected");
    }
    this.#nc = nc;
    void this.#watchStatus(nc);
    nc.closed().then(
      (err) => this.#terminate("closed", err ? `connection closed: ${err.message}` : "stopped"),
      (err: unknown) => this.#terminate("closed", `connection closed: ${message(err)}`),
    );
    // The subscriptions live as long as the connection; closing it ends them.
    nc.subscribe(ONLINE_SUBJECT, { callback: (err, m) => this.#onMsg(err, m, "presence") });
    nc.subscribe(`${POSTS_PREFIX}.*`, { callback: (err, m) => this.#onMsg(err, m, "post") });
    nc.subscribe(dmSubject(this.#me.key), { callback: (err, m) => this.#onMsg(err, m, "dm") });
    // Live subscriptions are in place before history is read, so nothing falls in between.
    try {
      await nc.flush();
    } catch (err) {
      await this.#terminate("closed", `connection failed right after connecting: ${message(err)}`);
      throw new ChatError("CHAT_CONNECT_FAILED", `the connection failed: ${message(err)}`, {
        cause: err,
      });
    }
    this.#everConnected = true;
    this.#setState("connected", undefined);
    await this.#announce(true);
    this.#every(this.#opts.presenceIntervalMs, () => void this.#announce(false));
    this.#every(this.#opts.sweepIntervalMs, () => this.#sweep());
    this.#scheduleRenewal();
    this.#historyDone = this.#loadHistory(nc, "initial");
  }

  /** Resolves when the latest history read (at start, or after a reconnect) has finished. */
  historyLoaded(): Promise<void> {
    return this.#historyDone.then(() => undefined);
  }

  /** Resolves once the session has stopped, with the final state and its reason. */
  closed(): Promise<{ state: SessionState; reason: string | undefined }> {
    return this.#closed;
  }

  /** Says goodbye (presence that expires now), drains the connection; state "closed". */
  async stop(reason = "stopped"): Promise<void> {
    const nc = this.#nc;
    const wasConnected = this.#state === "connected";
    this.#stopTimers();
    if (nc && !nc.isClosed() && wasConnected && !this.#stopping) {
      await this.#announce(false, 0);
      this.#stopping = true;
      // drain flushes what we published; errors here only mean the connection is already gone
      await nc.drain().catch(() => undefined);
    }
    this.#stopping = true;
    await this.#terminate("closed", reason);
  }

  /** Sends a post to "#CHANNEL" or a DM to "@<key>"; resolves once handed to the connection. */
  async send(target: string, text: string): Promise<void> {
    const signer = this.#signer;
    if (!this.#nc || !signer) throw new ChatError("CHAT_NOT_STARTED", "start() the session first");
    if (FINAL.includes(this.#state) || this.#stopping) {
      throw new ChatError(
        "CHAT_STOPPED",
        `the session is ${this.#stopping ? "stopping" : this.#state}: ${this.#reason ?? "stopped"}`,
      );
    }
    const t = parseTarget(target);
    const now = this.#opts.now();
    if (t.kind === "channel") {
      const token = await encodePost(signer, {
        name: this.#me.name,
        channel: t.channel,
        msg: text,
        now,
      });
      const jti = jtiOf(token);
      this.#conversation(channelId(t.channel)).append(this.#ownRecord(jti, text, now));
      this.#publish(postsSubject(t.channel), token, jti);
    } else {
      const token = await encodeDm(signer, { name: this.#me.name, to: t.peer, msg: text, now });
      const jti = jtiOf(token);
      this.#conversation(dmId(t.peer)).append({ ...this.#ownRecord(jti, text, now), to: t.peer });
      this.#publish(dmSubject(t.peer), token, jti);
      // A copy on our own DM subject puts the sent side into our DM history too.
      if (t.peer !== this.#me.key) this.#publish(dmSubject(this.#me.key), token, jti);
    }
    this.#changed();
  }

  /** Shows a conversation ("#CHANNEL" or "@<key>", created for a new DM peer); clears unread. */
  select(target: string): void {
    const t = parseTarget(target);
    const id = t.kind === "channel" ? channelId(t.channel) : dmId(t.peer);
    const c = this.#conversation(id);
    this.#selected = id;
    c.markRead();
    this.#changed();
  }

  /** Calls `cb` after changes (batched per microtask); returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  /** The current state, immutable; the same object until the next change. */
  snapshot(): ChatSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const views = [...this.#conversations.values()].map((c) => this.#view(c));
    const drops = this.#drops();
    const snap: ChatSnapshot = Object.freeze({
      version: this.#version,
      state: this.#state,
      reason: this.#reason,
      me: this.#me,
      selected: this.#selected,
      channels: Object.freeze(views.filter((v) => v.kind === "channel")),
      dms: Object.freeze(views.filter((v) => v.kind === "dm")),
      users: Object.freeze(
        [...this.#users.values()]
          .map((u) => this.#userView(u))
          .sort((a, b) => a.display.localeCompare(b.display)),
      ),
      drops: Object.freeze(drops),
      dropped: Object.values(drops).reduce((a, b) => a + b, 0),
      notice: this.#notice,
    });
    this.#snapshot = snap;
    return snap;
  }

  // --- connection -------------------------------------------------------------------------

  async #connect(): Promise<NatsConnection> {
    const seed = new TextEncoder().encode(this.#creds.seed);
    try {
      return await this.#opts.connect({
        ...this.#opts.connectionOptions,
        servers: this.#opts.servers,
        // every (re)connect presents the current JWT: a renewed one after a renewal
        authenticator: jwtAuthenticator(
          () => this.#creds.jwt,
          () => seed,
        ),
        inboxPrefix: inboxPrefixFor(this.#me.key),
        name: this.#opts.name ?? "natschat-chat",
        timeout: this.#opts.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      });
    } catch (err) {
      const servers = [this.#opts.servers].flat().join(",");
      const text = message(err);
      const hint = /authorization|authentication/i.test(text)
        ? "the server refused these creds (revoked, expired or for another operator)"
        : "is the server running? check --server";
      throw new ChatError("CHAT_CONNECT_FAILED", `cannot connect to ${servers}: ${text}; ${hint}`, {
        cause: err,
      });
    }
  }

  // --- storing what we send (see outbox.ts) -----------------------------------------------

  /** Publishes a signed post or DM: live at once, and into history once the stream confirms. */
  #publish(subject: string, token: string, jti: string): void {
    void this.#outbox.send({ subject, token, msgId: storeMsgId(jti, subject) });
  }

  #onUnstored(pending: number): void {
    const lost = this.#outbox.givenUp;
    if (pending > 0 || lost > 0) {
      this.#notice =
        `${pending} sent message${pending === 1 ? "" : "s"} ${UNSTORED} (the history stream is out of reach); retrying` +
        (lost > 0 ? `; ${lost} given up` : "");
    } else if (this.#notice?.includes(UNSTORED)) {
      this.#notice = undefined;
    }
    this.#changed();
  }

  // --- renewal ----------------------------------------------------------------------------

  /** Sets the timer for the next renewal of our user JWT (renewAt). */
  #scheduleRenewal(delayMs?: number): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    if (FINAL.includes(this.#state) || this.#stopping) return;
    const at = renewAt(
      decodeJwtUnverified(this.#creds.jwt).payload as { iat?: number; exp?: number },
    );
    if (at === undefined) return;
    const wait = Math.max(0, delayMs ?? at - this.#opts.now());
    this.#renewTimer = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.#scheduleRenewal() : void this.#renewNow()),
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  /**
   * Asks the access service for a fresh JWT for our key and name (through the CHAT import), then
   * reconnects so that the servers hold the new one. A failure is shown as the notice and tried
   * again; a revoked user is ended by the server anyway.
   */
  async #renewNow(): Promise<void> {
    const nc = this.#nc;
    const signer = this.#signer;
    if (!nc || !signer || FINAL.includes(this.#state) || this.#stopping) return;
    try {
      const renewed = await renew(nc, signer, this.#me.name, {
        chatAccount: this.#opts.chatAccount,
        chatSigningKeys: this.#opts.chatSigningKeys,
        timeoutMs: 10_000,
      });
      if (FINAL.includes(this.#state) || this.#stopping) return;
      this.#creds = { jwt: renewed.jwt, seed: this.#creds.seed };
      if (this.#notice?.startsWith(RENEW_FAILED)) {
        this.#notice = undefined;
        this.#changed();
      }
      this.#scheduleRenewal();
      try {
        this.#opts.onRenewed?.(this.#creds);
      } catch {
        // a UI that cannot save the creds keeps chatting on them; it is its own to report
      }
    } catch (err) {
      if (FINAL.includes(this.#state) || this.#stopping) return;
      this.#notice = `${RENEW_FAILED}: ${message(err)}`;
      this.#changed();
      this.#scheduleRenewal(RENEW_RETRY_MS);
      return;
    }
    // The servers hold the JWT a connection was made with: reconnect to hand them the new one.
    // Should that fail, the client's own reconnects present it (the authenticator reads it).
    await nc.reconnect().catch(() => undefined);
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) this.#onStatus(s);
  }

  #onStatus(s: Status): void {
    if (FINAL.includes(this.#state)) return;
    switch (s.type) {
      case "disconnect":
      case "reconnecting":
        this.#setState("reconnecting", undefined);
        return;
      case "reconnect":
        this.#setState("connected", undefined);
        // Others may have expired us meanwhile; a first announce makes them answer.
        void this.#announce(true);
        // Fetch what was posted while we were away (history reads never throw).
        if (this.#nc) this.#historyDone = this.#loadHistory(this.#nc, "backfill");
        this.#outbox.retryNow();
        return;
      case "error": {
        const err = s.error;
        const text = err.message.toLowerCase();
        if (text.includes("revoked")) {
          void this.#terminate(
            "revoked",
            "your access was revoked by an administrator (User Authentication Revoked)",
          );
        } else if (err instanceof errors.UserAuthenticationExpiredError) {
          void this.#terminate(
            "expired",
            "your credentials expired (User Authentication Expired); renew them or register again",
          );
        } else if (err instanceof errors.AuthorizationError && this.#everConnected) {
          void this.#terminate(
            text.includes("expired") ? "expired" : "revoked",
            `the server no longer accepts these credentials (${err.message}); they were revoked or expired`,
          );
        } else if (err instanceof errors.PermissionViolationError) {
          this.#notice = `the server denied ${err.operation} on ${err.subject}`;
          this.#changed();
        } else {
          this.#notice = err.message;
          this.#changed();
        }
        return;
      }
      default:
        return;
    }
  }

  #setState(state: SessionState, reason: string | undefined): void {
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    this.#changed();
  }

  async #terminate(state: SessionState, reason: string): Promise<void> {
    if (FINAL.includes(this.#state)) return;
    this.#setState(state, reason);
    this.#stopTimers();
    const nc = this.#nc;
    // A revoked or expired connection would only retry forever: close it now.
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    this.#closedResolve({ state, reason });
  }

  #stopTimers(): void {
    this.#outbox.stop();
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    if (this.#answerTimer) clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.#timers.add(t);
  }

  // --- presence ---------------------------------------------------------------------------

  /** Publishes our presence; never throws (a failure becomes the notice). */
  async #announce(first: boolean, ttlSeconds = this.#opts.presenceTtlSeconds): Promise<void> {
    const nc = this.#nc;
    const signer = this.#signer;
    if (!nc || !signer || this.#stopping || FINAL.includes(this.#state)) return;
    try {
      const token = await encodePresence(signer, {
        name: this.#me.name,
        first,
        userJwt: this.#creds.jwt,
        ttlSeconds,
        now: this.#opts.now(),
      });
      if (!nc.isClosed() && !this.#stopping) nc.publish(ONLINE_SUBJECT, token);
    } catch (err) {
      this.#notice = `could not announce presence: ${message(err)}`;
      this.#changed();
    }
  }

  /** A newcomer does not know us yet: answer its first announcement once, soon. */
  #answerNewcomer(): void {
    if (this.#answerTimer) return;
    const delay = Math.floor(Math.random() * this.#opts.answerDelayMs);
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = undefined;
      void this.#announce(false);
    }, delay);
  }

  #sweep(): void {
    const now = this.#opts.now();
    let changed = false;
    for (const u of this.#users.values()) {
      if (u.key !== this.#me.key && u.online && u.exp <= now) {
        u.online = false;
        changed = true;
      }
    }
    if (changed) this.#changed();
  }

  #touchUser(key: string): UserRecord {
    let u = this.#users.get(key);
    if (!u) {
      u = { key, exp: 0, lastSeen: undefined, online: key === this.#me.key };
      this.#users.set(key, u);
    }
    return u;
  }

  // --- receiving --------------------------------------------------------------------------

  #onMsg(err: Error | null, m: Msg, kind: "presence" | "post" | "dm"): void {
    if (err) {
      this.#notice = `subscription failed: ${err.message}`;
      this.#changed();
      return;
    }
    // Verify at once (in parallel), apply in arrival order. A sender's repeat of a message that
    // its history stream had not confirmed is checked apart: seeing it again is not a replay.
    const subject = kind === "dm" ? undefined : m.subject;
    const resent = kind !== "presence" && m.headers?.has(RESENT_HEADER) === true;
    const verifier = resent ? this.#resent : this.#live;
    const verified = verifier.verify(m.data, subject === undefined ? {} : { subject });
    // a repeat means its sender was cut off from the history stream: so may we have been
    if (resent) void verified.then((r) => r.ok && this.#suspectGap());
    const identity = verified.then((r) =>
      r.ok && r.envelope.type === PRESENCE_TYPE && r.envelope.userJwt
        ? this.#identities.learn(r.envelope.iss, r.envelope.userJwt)
        : undefined,
    );
    this.#chain = this.#chain
      .then(async () => this.#apply(await verified, await identity, m.subject))
      .catch((e: unknown) => {
        this.#notice = `could not handle a message: ${message(e)}`;
        this.#changed();
      });
  }

  #apply(
    r: VerifyResult,
    learned: Awaited<ReturnType<IdentityCache["learn"]>> | undefined,
    subject: string,
  ): void {
    if (FINAL.includes(this.#state)) return;
    if (!r.ok) {
      this.#changed();
      return;
    }
    const e = r.envelope;
    switch (e.type) {
      case PRESENCE_TYPE:
        this.#onPresence(e, learned);
        return;
      case POST_TYPE:
        this.#onPost(e, undefined);
        return;
      case DM_TYPE:
        this.#onDm(e, subject, undefined);
        return;
    }
  }

  #onPresence(
    e: PresenceEnvelope,
    learned: Awaited<ReturnType<IdentityCache["learn"]>> | undefined,
  ) {
    if (e.iss === this.#me.key) return;
    if (learned && !learned.ok) {
      // The presence is signed by its key, but the identity it carries is not one CHAT issued.
      this.#countDrop("bad-identity");
      return;
    }
    if (learned?.changed) this.#identityVersion++;
    const u = this.#touchUser(e.iss);
    const now = this.#opts.now();
    // someone we had lost without a goodbye for more than two presence lifetimes is back, and
    // did not just join: a link between us was down (a gateway or leaf cut), and what was posted
    // on their side may have missed us. (Shorter silences are common: a browser throttles the
    // timers of a background tab to once a minute.)
    const silentMs = u.lastSeen === undefined ? 0 : now - u.lastSeen;
    if (!e.first && u.exp > 0 && u.exp <= now && silentMs > 2000 * this.#opts.presenceTtlSeconds)
      this.#suspectGap();
    u.exp = e.exp * 1000;
    u.lastSeen = now;
    u.online = u.exp > now;
    if (e.first) this.#answerNewcomer();
    this.#changed();
  }

  #onPost(e: PostEnvelope, seq: number | undefined): MessageRecord | undefined {
    const id = channelId(e.channel);
    const c = this.#conversations.get(id);
    if (!c) return undefined; // a channel we did not join
    const rec = this.#record(e, seq);
    if (seq !== undefined) return rec;
    if (c.append(rec)) {
      if (rec.from !== this.#me.key && this.#selected !== id) c.unread++;
      this.#changed();
    }
    return rec;
  }

  #onDm(e: DmEnvelope, subject: string, seq: number | undefined): MessageRecord | undefined {
    // DMs arrive on our own subject: to us, or our own sent copies (to someone else).
    const own = `${DMS_PREFIX}.${this.#me.key}`;
    if (subject !== own || (e.to !== this.#me.key && e.iss !== this.#me.key)) {
      this.#countDrop("wrong-subject");
      return undefined;
    }
    const peer = e.iss === this.#me.key ? e.to : e.iss;
    const rec = { ...this.#record(e, seq), to: e.to };
    if (seq !== undefined) return rec;
    const id = dmId(peer);
    const c = this.#conversation(id);
    if (c.append(rec)) {
      if (rec.from !== this.#me.key && this.#selected !== id) c.unread++;
      this.#changed();
    }
    return rec;
  }

  #record(e: PostEnvelope | DmEnvelope, seq: number | undefined): MessageRecord {
    if (e.iss !== this.#me.key) this.#touchUser(e.iss);
    return {
      id: `${e.iss} ${e.jti}`,
      from: e.iss,
      claimedName: e.claimedName,
      text: e.msg,
      time: e.iat * 1000,
      ...(seq === undefined ? {} : { seq }),
    };
  }

  #ownRecord(jti: string, text: string, now: number): MessageRecord {
    return {
      id: `${this.#me.key} ${jti}`,
      from: this.#me.key,
      claimedName: this.#me.name,
      text,
      time: Math.floor(now / 1000) * 1000,
    };
  }

  #countDrop(reason: string): void {
    this.#own.set(reason, (this.#own.get(reason) ?? 0) + 1);
    this.#changed();
  }

  #drops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(this.#live.drops)) out[k] = (out[k] ?? 0) + n;
    // a repeat we have already seen, or one too old to show live, is not a drop: it is in
    // history (that is why it was repeated)
    for (const [k, n] of Object.entries(this.#resent.drops)) {
      if (k !== "replay" && k !== "expired") out[k] = (out[k] ?? 0) + n;
    }
    for (const m of [this.#historyDrops, this.#own]) {
      for (const [k, n] of m) out[k] = (out[k] ?? 0) + n;
    }
    return out;
  }

  /**
   * Reads the history again soon (a backfill: what we do not show yet is appended as unread).
   * Called when a message or presence shows that a link between us and others was down while we
   * stayed connected: live posts from across it missed us, but the history stream has them. While
   * the stream is out of reach too, the backfill is tried again every GAP_BACKFILL_RETRY_MS,
   * until one has worked after the last such sign.
   */
  #suspectGap(): void {
    this.#gapSuspected = true;
    if (this.#gapTimer === undefined) this.#scheduleGapBackfill(GAP_BACKFILL_DELAY_MS);
  }

  #scheduleGapBackfill(delayMs: number): void {
    this.#gapTimer = setTimeout(async () => {
      const nc = this.#nc;
      if (!nc || nc.isClosed() || FINAL.includes(this.#state) || this.#stopping) {
        this.#gapTimer = undefined;
        return;
      }
      this.#gapSuspected = false;
      const read = this.#loadHistory(nc, "backfill");
      this.#historyDone = read;
      const ok = await read;
      if (!ok) this.#gapSuspected = true;
      this.#gapTimer = undefined;
      if (this.#gapSuspected && !FINAL.includes(this.#state) && !this.#stopping) {
        this.#scheduleGapBackfill(ok ? GAP_BACKFILL_DELAY_MS : GAP_BACKFILL_RETRY_MS);
      }
    }, delayMs);
  }

  // --- history ----------------------------------------------------------------------------

  /**
   * Reads history. "initial" puts it before what arrived live meanwhile; "backfill" (after a
   * reconnect) appends only what we missed while disconnected, as unread.
   */
  /** True when every read worked (a failed backfill is retried by #suspectGap only). */
  async #loadHistory(nc: NatsConnection, mode: "initial" | "backfill"): Promise<boolean> {
    const js = jetstream(nc, { domain: this.#opts.jetstreamDomain });
    const n = this.#opts.historySize;
    const channels = [...this.#conversations.values()].filter((c) => c.kind === "channel");
    const done = await Promise.all([
      ...channels.map((c) => this.#loadChannel(js, c, n, mode)),
      this.#loadDms(js, n, mode),
    ]);
    return done.every(Boolean);
  }

  /** A verifier for one history read: its replay check finds a jti stored twice. */
  #historyVerifier(): EnvelopeVerifier {
    return new EnvelopeVerifier({
      now: this.#opts.now,
      replayWindowSeconds: 10 * 365 * 24 * 3600,
      maxReplayEntries: 100_000,
    });
  }

  #keepDrops(v: EnvelopeVerifier): void {
    for (const [k, n] of Object.entries(v.drops)) {
      if (n > 0) this.#historyDrops.set(k, (this.#historyDrops.get(k) ?? 0) + n);
    }
  }

  #place(c: Conversation, records: MessageRecord[], mode: "initial" | "backfill"): void {
    if (mode === "initial") {
      c.mergeHistory(records);
      return;
    }
    for (const rec of records) {
      if (c.append(rec) && rec.from !== this.#me.key && this.#selected !== c.id) c.unread++;
    }
  }

  async #loadChannel(
    js: JetStreamClient,
    c: Conversation,
    n: number,
    mode: "initial" | "backfill",
  ): Promise<boolean> {
    const verifier = this.#historyVerifier();
    let ok = true;
    try {
      const stored = await readLastNRetrying(js, POSTS_STREAM, postsSubject(c.target), n);
      const records: MessageRecord[] = [];
      for (const s of stored) {
        const r = await verifier.verify(s.data, { subject: s.subject });
        if (!r.ok || r.envelope.type !== POST_TYPE) continue;
        const rec = this.#onPost(r.envelope, s.seq);
        if (rec) records.push(rec);
      }
      this.#place(c, records, mode);
      c.setHistory("loaded");
    } catch (err) {
      ok = false;
      if (mode === "initial") this.#historyFailed(c, err);
    }
    this.#keepDrops(verifier);
    this.#changed();
    return ok;
  }

  async #loadDms(js: JetStreamClient, n: number, mode: "initial" | "backfill"): Promise<boolean> {
    const own = dmSubject(this.#me.key);
    const verifier = this.#historyVerifier();
    let ok = true;
    try {
      const stored = await readLastNRetrying(js, DMS_STREAM, own, n);
      const byPeer = new Map<string, MessageRecord[]>();
      for (const s of stored) {
        const r = await verifier.verify(s.data);
        if (!r.ok || r.envelope.type !== DM_TYPE) {
          if (r.ok) this.#countDrop("wrong-type");
          continue;
        }
        const rec = this.#onDm(r.envelope, s.subject, s.seq);
        if (!rec) continue;
        const peer = rec.from === this.#me.key ? (rec.to as string) : rec.from;
        const list = byPeer.get(peer) ?? [];
        list.push(rec);
        byPeer.set(peer, list);
      }
      for (const [peer, records] of byPeer) {
        this.#place(this.#conversation(dmId(peer)), records, mode);
      }
      for (const c of this.#conversations.values()) if (c.kind === "dm") c.setHistory("loaded");
    } catch (err) {
      ok = false;
      if (mode === "initial") {
        for (const c of this.#conversations.values())
          if (c.kind === "dm") this.#historyFailed(c, err);
      }
    }
    this.#keepDrops(verifier);
    this.#dmHistoryPending = false;
    this.#changed();
    return ok;
  }

  #historyFailed(c: Conversation, err: unknown): void {
    c.setHistory("failed");
    if (FINAL.includes(this.#state)) return;
    this.#notice = `history of ${c.id.startsWith("#") ? c.id : "DMs"} could not be read: ${message(err)}`;
  }

  // --- conversations and snapshots --------------------------------------------------------

  #conversation(id: string): Conversation {
    let c = this.#conversations.get(id);
    if (!c) {
      const kind = id.startsWith("#") ? "channel" : "dm";
      c = new Conversation(id, kind, id.slice(1), this.#opts.maxMessages);
      if (kind === "dm" && !this.#dmHistoryPending) c.setHistory("loaded");
      this.#conversations.set(id, c);
      if (kind === "dm") this.#touchUser(c.target);
    }
    return c;
  }

  #display(key: string): { name: string | undefined; display: string } {
    const name = this.#identities.nameOf(key);
    return { name, display: name ?? shortKey(key) };
  }

  #view(c: Conversation): ConversationView {
    const peer = c.kind === "dm" ? this.#users.get(c.target) : undefined;
    const cacheKey = `${c.version}/${this.#identityVersion}/${peer?.online ?? ""}`;
    const hit = this.#viewCache.get(c.id);
    if (hit && hit.key === cacheKey) return hit.view;
    const messages = Object.freeze(
      c.messages.map((m): MessageView => {
        const { name, display } = this.#display(m.from);
        return Object.freeze({
          id: m.id,
          from: m.from,
          name,
          display,
          text: m.text,
          time: m.time,
          mine: m.from === this.#me.key,
          claimedOther: name !== undefined && m.claimedName !== name,
          ...(m.seq === undefined ? {} : { seq: m.seq }),
        });
      }),
    );
    const view: ConversationView = Object.freeze({
      id: c.id,
      kind: c.kind,
      title: c.kind === "channel" ? c.target : this.#display(c.target).display,
      ...(c.kind === "dm" ? { peer: c.target, online: peer?.online ?? false } : {}),
      messages,
      unread: c.unread,
      history: c.history,
    });
    this.#viewCache.set(c.id, { key: cacheKey, view });
    return view;
  }

  #userView(u: UserRecord): UserView {
    const { name, display } = this.#display(u.key);
    return Object.freeze({
      key: u.key,
      name,
      display,
      online: u.online,
      lastSeen: u.lastSeen,
      me: u.key === this.#me.key,
    });
  }

  #changed(): void {
    this.#version++;
    this.#snapshot = undefined;
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const cb of [...this.#listeners]) cb();
    });
  }
}

function userKeyOf(jwt: string): string {
  let sub: unknown;
  try {
    sub = decodeJwtUnverified(jwt).payload.sub;
  } catch (err) {
    throw new ChatError("CHAT_CREDS_MISMATCH", `the user JWT does not decode: ${message(err)}`);
  }
  if (typeof sub !== "string" || !isPublicKey(sub, "U")) {
    throw new ChatError(
      "CHAT_CREDS_MISMATCH",
      "the JWT is not a user JWT (its sub is no user key)",
    );
  }
  return sub;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The jti of a token we signed ourselves. */
function jtiOf(token: string): string {
  return String(decodeJwtUnverified(token).payload.jti);
}
