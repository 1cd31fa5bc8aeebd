// ChatSession: the one chat session model that the terminal and web UIs share. It owns the
// state machine and the connection; its parts each own one concern:
//   store.ts          conversations, roster, drops, notice, snapshots, change notification
//   inbound.ts        live subscriptions, verification, routing (routing.ts)
//   presence.ts       our heartbeats; who is online, from the directory's presence feed
//   directory.ts      issued names of keys, from the directory service (batched, cached)
//   history-loader.ts history reads at start, after a reconnect and after a healed link,
//                     from the history service (history.ts)
//   renewer.ts        renewal of our user JWT before it expires
//   outbox.ts         store-and-forward of what we send (a request; the writer acks it)
//   events.ts         reactions, edits, deletions; the states the history service publishes
//   threads.ts        the open thread
//   typing.ts         typing signals, ours and others'
//   read-state.ts     read positions and mutes, shared by our sessions through the service
//   notifications.ts  which live messages notify
//   search.ts         search through the history service
//   scope.ts          the session's lifetime: `live`, and every timer
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
//   await session.send("#NATS", "hi @ann", { replyTo: m.id })   // @name → <@KEY>; a reply
//   session.select("#NATS")                // the conversation on screen; moves the read position
//   await session.react(m.id, "👍", true) / edit(m.id, "…") / remove(m.id)  // ChatError if refused
//   session.openThread(m.id) / closeThread()        // snapshot().thread
//   session.typing("#NATS")                // on each keystroke (sent at most once per 3 s)
//   await session.mute("#NATS", true)      // for all our sessions
//   await session.search("text", { conversation?, cursor? })  // { hits, cursor? }
//   session.onNotify(({ conversation, message, reason }) => …)  // a mention of us, or a DM
//   session.mentionCandidates("an")        // ≤ 8 known users for `@an`
//   const off = session.onChange(() => …)  // called (batched, once per microtask) on changes
//   session.snapshot()                     // immutable ChatSnapshot; the same object until the
//                                          // next change (fit for React useSyncExternalStore)
//   await session.historyLoaded()          // resolves when every history read has finished
//   await session.closed()                 // resolves with { state, reason } once it stops
//   await session.stop()                   // says goodbye, drains, state "closed"
//   session.leave()                        // a closing page: a goodbye signed in advance at
//                                          //   once, then stop()
//
// Identity (security property 3): the server proves the sender (protocol v3: the subject's last
// token is the sender's key, and only that key may publish there), and a sender is shown only
// under the name the access service issued for its key, looked up in the directory service
// (which knows registered users only: never the bootstrap identity or a role). Until a key
// resolves, its messages are labelled with its short form (`~UABCD…WXYZ`), never with the name
// they claim; only registered, unrevoked users appear online.
import type { NatsConnection, Status } from "@nats-io/nats-core";
import {
  DEFAULT_CHANNELS,
  decodeJwtUnverified,
  isPublicKey,
  PRESENCE_INTERVAL_SECONDS,
  PRESENCE_TTL_SECONDS,
  type Signer,
  signerFromSeed,
  validateChannel,
} from "@natschat/protocol";
import type {
  ChatNotification,
  MentionCandidate,
  SearchOptions,
  SearchResult,
  SendOptions,
} from "./api.ts";
import { openConnection, statusVerdict } from "./connection.ts";
import type { Conversation, MessageRecord } from "./conversation.ts";
import { Directory, natsDirectoryLookup } from "./directory.ts";
import { ChatError } from "./errors.ts";
import { Events } from "./events.ts";
import { natsHistoryFetch } from "./history.ts";
import { HistoryLoader } from "./history-loader.ts";
import { IdentityCache } from "./identity.ts";
import { Inbound } from "./inbound.ts";
import { mentionCandidates, mentionsToKeys } from "./mentions.ts";
import { messageView } from "./message-view.ts";
import { Notifications } from "./notifications.ts";
import type { ChatCreds, ChatSessionOptions } from "./options.ts";
import { Presence } from "./presence.ts";
import { ReadPositions } from "./read-state.ts";
import { chatUserKind } from "./renewal.ts";
import { Renewer } from "./renewer.ts";
import { Scope } from "./scope.ts";
import { type SearchContext, search } from "./search.ts";
import { Sender } from "./sender.ts";
import { type ChatSnapshot, ChatStore, isFinal, type Me, type SessionState } from "./store.ts";
import { channelId, dmId, parseTarget, targetId } from "./target.ts";
import { Threads } from "./threads.ts";
import { Typing } from "./typing.ts";

/** The chat session: the state machine and the connection, with its parts (see above). */
export class ChatSession {
  #creds: ChatCreds;
  readonly #opts: ChatSessionOptions;
  readonly #now: () => number;
  readonly #scope = new Scope();
  readonly #store: ChatStore;
  readonly #identities: IdentityCache;
  readonly #inbound: Inbound;
  readonly #directory: Directory;
  readonly #presence: Presence;
  readonly #history: HistoryLoader;
  readonly #renewer: Renewer;
  readonly #sender: Sender;
  readonly #events: Events;
  readonly #readState: ReadPositions;
  readonly #threads: Threads;
  readonly #typing: Typing;
  readonly #notifications = new Notifications();
  readonly #search: SearchContext;
  #signer: Signer | undefined;
  #nc: NatsConnection | undefined;
  #started = false;
  #everConnected = false;
  #closedResolve!: (r: { state: SessionState; reason: string | undefined }) => void;
  readonly #closed: Promise<{ state: SessionState; reason: string | undefined }>;

  constructor(creds: ChatCreds, options: ChatSessionOptions) {
    if (!options.chatAccount || options.chatSigningKeys.length === 0) {
      throw new ChatError(
        "CHAT_BAD_OPTIONS",
        "the CHAT account key and its signing keys are needed to check who sent what (see trust.json)",
      );
    }
    this.#creds = creds;
    this.#opts = options;
    const channels = (options.channels ?? DEFAULT_CHANNELS).map(validateChannel);
    if (channels.length === 0) {
      throw new ChatError("CHAT_BAD_OPTIONS", "give at least one channel to join");
    }
    const now = options.now ?? Date.now;
    this.#now = now;
    const scope = this.#scope;
    const nc = () => this.#nc;
    const signer = () => this.#signer;
    this.#identities = new IdentityCache({
      chatAccount: options.chatAccount,
      chatSigningKeys: options.chatSigningKeys,
      now,
    });
    const store = new ChatStore({
      me: { key: userKeyOf(creds.jwt), name: "" },
      channels: channels.map(channelId),
      maxMessages: options.maxMessages ?? 1000,
      names: (key) => this.#directory.nameOf(key),
      onNewUser: (key) => this.#directory.want(key),
      onMentioned: (key) => this.#directory.want(key),
      onRead: (c) => this.#readState?.moved(c),
      onConversation: (c) => this.#readState?.adopt(c),
      onDeliver: (c, rec) => this.#delivered(c, rec),
    });
    this.#store = store;
    this.#directory = new Directory({
      lookup: natsDirectoryLookup(nc),
      scope,
      chatAccount: options.chatAccount,
      chatSigningKeys: options.chatSigningKeys,
      now,
      onResolved: (keys) => {
        store.clearNotice("directory");
        store.identityChanged();
        this.#inbound.resolved(keys);
      },
      onError: (err) => store.setNotice(`could not look up names yet: ${text(err)}`, "directory"),
    });
    const fetch = natsHistoryFetch(nc);
    this.#events = new Events({ store, scope, nc, signer, now });
    const withState = this.#events.withState.bind(this.#events);
    this.#history = new HistoryLoader({
      store,
      scope,
      fetch,
      historySize: options.historySize ?? 100,
      now,
      withState,
    });
    this.#readState = new ReadPositions({ store, scope, nc, fetch, now });
    this.#threads = new Threads({ store, scope, nc, now, withState });
    this.#typing = new Typing({ store, scope, nc, now });
    this.#search = { store, nc, now, withState };
    const ttlSeconds = options.presenceTtlSeconds ?? PRESENCE_TTL_SECONDS;
    this.#presence = new Presence({
      store,
      scope,
      nc,
      signer,
      intervalMs: options.presenceIntervalMs ?? PRESENCE_INTERVAL_SECONDS * 1000,
      ttlSeconds,
      now,
      onGap: () => this.#history.suspectGap(),
      named: (key, name) => this.#directory.set(key, name),
    });
    this.#inbound = new Inbound({
      store,
      scope,
      now,
      directory: this.#directory,
      onResent: () => this.#history.suspectGap(),
    });
    this.#renewer = new Renewer({
      store,
      scope,
      nc,
      signer,
      jwt: () => this.#creds.jwt,
      setJwt: (jwt) => {
        this.#creds = { jwt, seed: this.#creds.seed };
      },
      chatAccount: options.chatAccount,
      chatSigningKeys: options.chatSigningKeys,
      now,
      onRenewed: () => options.onRenewed?.(this.#creds),
    });
    this.#sender = new Sender({ store, scope, nc, now, keyOf: (name) => this.#keyOf(name) });
    this.#closed = new Promise((resolve) => {
      this.#closedResolve = resolve;
    });
  }

  /** Where the session stands. */
  get state(): SessionState {
    return this.#store.state;
  }

  /** Why it is in that state (set when revoked, expired or closed). */
  get reason(): string | undefined {
    return this.#store.reason;
  }

  /** Our key and issued name. */
  get me(): Me {
    return this.#store.me;
  }

  /** Connects, subscribes, announces presence and starts loading history. */
  async start(): Promise<void> {
    if (this.#started) throw new ChatError("CHAT_BAD_OPTIONS", "start() was already called");
    this.#started = true;
    const key = this.#store.me.key;
    this.#signer = await signerFromSeed(this.#creds.seed).catch((err: unknown) => {
      throw new ChatError("CHAT_CREDS_MISMATCH", `the user seed does not decode: ${text(err)}`, {
        cause: err,
      });
    });
    if (this.#signer.publicKey !== key) {
      throw new ChatError(
        "CHAT_CREDS_MISMATCH",
        "the seed and the user JWT are for different keys; get the creds file again",
      );
    }
    const mine = await this.#identities.learn(key, this.#creds.jwt);
    if (!mine.ok) {
      throw new ChatError(
        "CHAT_NOT_CHAT_USER",
        `these creds are not a chat user of this CHAT account: ${mine.detail}`,
      );
    }
    const kind = chatUserKind(this.#creds.jwt, key);
    if (kind === undefined) {
      throw new ChatError(
        "CHAT_NOT_CHAT_USER",
        "these creds may not post: they are the bootstrap identity or a role, not a chat user; register to get chat creds",
      );
    }
    this.#directory.set(key, mine.identity.name);
    this.#store.setMe({ key, name: mine.identity.name });

    const nc = await openConnection({
      connect: this.#opts.connect,
      servers: this.#opts.servers,
      userKey: key,
      jwt: () => this.#creds.jwt,
      seed: this.#creds.seed,
      name: this.#opts.name ?? "natschat-chat",
      timeoutMs: this.#opts.connectTimeoutMs ?? 5000,
      ...(this.#opts.connectionOptions ? { extra: this.#opts.connectionOptions } : {}),
    });
    if (!this.#scope.live) {
      // stop() was called while we were connecting
      await nc.close().catch(() => undefined);
      throw new ChatError("CHAT_STOPPED", "the session was stopped before it connected");
    }
    this.#nc = nc;
    void this.#watchStatus(nc);
    nc.closed().then(
      (err) => this.#terminate("closed", err ? `connection closed: ${err.message}` : "stopped"),
      (err: unknown) => this.#terminate("closed", `connection closed: ${text(err)}`),
    );
    this.#inbound.subscribe(nc);
    this.#events.subscribe(nc);
    this.#typing.subscribe(nc);
    this.#readState.subscribe(nc);
    // Live subscriptions are in place before history is read, so nothing falls in between.
    try {
      await nc.flush();
    } catch (err) {
      await this.#terminate("closed", `connection failed right after connecting: ${text(err)}`);
      throw new ChatError("CHAT_CONNECT_FAILED", `the connection failed: ${text(err)}`, {
        cause: err,
      });
    }
    this.#everConnected = true;
    this.#store.setState("connected", undefined);
    // history, read state and the online set load side by side; start() returns once the set is
    // loaded
    void this.#history.read("initial");
    void this.#readState.load();
    // a JWT from before protocol v3 or the presence feed lacks permissions: renew it at once
    this.#renewer.schedule(kind !== "v3" ? 0 : undefined);
    await this.#presence.start();
  }

  /** Resolves when every history read started so far (at start, after a reconnect) finished. */
  historyLoaded(): Promise<void> {
    return this.#history.loaded();
  }

  /** Resolves once the session has stopped, with the final state and its reason. */
  closed(): Promise<{ state: SessionState; reason: string | undefined }> {
    return this.#closed;
  }

  /** Says goodbye (a heartbeat that expires now), drains the connection; state "closed". */
  async stop(reason = "stopped"): Promise<void> {
    const nc = this.#nc;
    const goodbye = this.#scope.live && this.#store.state === "connected";
    this.#scope.close();
    if (nc && !nc.isClosed() && goodbye) {
      await this.#presence.goodbye();
      // drain flushes what we published; errors here only mean the connection is already gone
      await nc.drain().catch(() => undefined);
    }
    await this.#terminate("closed", reason);
  }

  /**
   * For a page or process that is going away and cannot wait: publishes a goodbye signed in
   * advance (others see us offline at once), then stops as stop() does.
   */
  leave(reason = "left"): Promise<void> {
    if (this.#scope.live && this.#store.state === "connected") this.#presence.goodbyeNow();
    return this.stop(reason);
  }

  /**
   * Sends a post to "#CHANNEL" or a DM to "@<key>"; resolves once handed to the connection.
   * `@name` of a known user becomes a mention of its key (`<@KEY>`); `replyTo` (a message id)
   * makes it a reply, shown in that message's thread too.
   */
  async send(target: string, text: string, opts: SendOptions = {}): Promise<void> {
    this.#checkLive();
    await this.#sender.send(this.#signer as Signer, parseTarget(target), text, opts);
  }

  /**
   * Adds (`on`) or removes our `emoji` on a message (MessageView.id); resolves once the history
   * service stored it, rejects with ChatError (code LIMIT, NOT_FOUND, …) when it refused.
   */
  async react(messageId: string, emoji: string, on: boolean): Promise<void> {
    this.#checkLive();
    await this.#events.react(messageId, emoji, on);
  }

  /** Replaces the text of our message; rejects with ChatError (code FORBIDDEN, …) if refused. */
  async edit(messageId: string, text: string): Promise<void> {
    this.#checkLive();
    await this.#events.edit(
      messageId,
      mentionsToKeys(text, (n) => this.#keyOf(n)),
    );
  }

  /** Deletes our message (a tombstone for everyone); rejects with ChatError if refused. */
  async remove(messageId: string): Promise<void> {
    this.#checkLive();
    await this.#events.remove(messageId);
  }

  /**
   * Opens the thread of a message (`snapshot().thread`: loading, then its root and replies);
   * live replies join it. Throws ChatError NOT_FOUND for a message not shown here.
   */
  openThread(messageId: string): void {
    this.#threads.open(messageId);
  }

  /** Closes the open thread. */
  closeThread(): void {
    this.#threads.close();
  }

  /** Call on every keystroke in a conversation's composer: others see us typing (≤ 1 per 3 s). */
  typing(target: string): void {
    this.#typing.typing(targetId(parseTarget(target)));
  }

  /** Mutes (`on`) or unmutes a conversation, for all our sessions: no notifications. */
  async mute(target: string, on: boolean): Promise<void> {
    this.#checkLive();
    await this.#readState.mute(targetId(parseTarget(target)), on);
  }

  /**
   * Searches the channels and our DMs (newest first; `conversation` narrows it); pass the
   * result's `cursor` back for more. Rejects with ChatError when the service refused.
   */
  async search(query: string, opts: SearchOptions = {}): Promise<SearchResult> {
    this.#checkLive();
    return search(this.#search, query, opts);
  }

  /**
   * Calls `cb` for a live message from someone else that mentions us or is a DM, unless its
   * conversation is muted; returns the unsubscribe function.
   */
  onNotify(cb: (n: ChatNotification) => void): () => void {
    return this.#notifications.subscribe(cb);
  }

  /** A live message (or one we sent) was added: typing, the open thread, notifications. */
  #delivered(c: Conversation, rec: MessageRecord): void {
    this.#typing?.stopped(c.id, rec.from);
    this.#threads?.consider(c, rec);
    this.#notifications.consider(c, rec, this.#store.me.key, () =>
      messageView(this.#store.viewContext(c.id), rec),
    );
  }

  /** Known users (roster and directory) whose name starts with `prefix`: at most 8. */
  mentionCandidates(prefix: string): MentionCandidate[] {
    return mentionCandidates(prefix, this.#directory.users(), this.#store.me.key);
  }

  #keyOf(name: string): string | undefined {
    for (const u of this.#directory.users()) if (u.name === name) return u.key;
    return undefined;
  }

  /** Messages we sent that the history service has not acknowledged as stored yet. */
  get unsaved(): number {
    return this.#sender.unsaved;
  }

  /**
   * Shows a conversation ("#CHANNEL" or "@<key>", created for a new DM peer) and moves our read
   * position there (for all our sessions); its "new messages" separator stays where it was.
   */
  select(target: string): void {
    const t = parseTarget(target);
    this.#store.select(t.kind === "channel" ? channelId(t.channel) : dmId(t.peer));
  }

  /** Calls `cb` after changes (batched per microtask); returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    return this.#store.onChange(cb);
  }

  /** The current state, immutable; the same object until the next change. */
  snapshot(): ChatSnapshot {
    return this.#store.snapshot();
  }

  #checkLive(): void {
    if (!this.#nc || !this.#signer) {
      throw new ChatError("CHAT_NOT_STARTED", "start() the session first");
    }
    if (!this.#scope.live) {
      const state = this.#store.state;
      throw new ChatError(
        "CHAT_STOPPED",
        `the session is ${isFinal(state) ? state : "stopping"}: ${this.#store.reason ?? "stopped"}`,
      );
    }
  }

  // --- the connection's state machine ----------------------------------------------------

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) this.#onStatus(s);
  }

  #onStatus(s: Status): void {
    if (!this.#scope.live) return;
    switch (s.type) {
      case "disconnect":
      case "reconnecting":
        this.#store.setState("reconnecting", undefined);
        return;
      case "reconnect":
        this.#store.setState("connected", undefined);
        // The directory may have expired us meanwhile, and the feed went on without us.
        void this.#presence.announce();
        void this.#presence.resync();
        // Fetch what was posted while we were away (history reads never throw).
        void this.#history.read("backfill");
        void this.#readState.load();
        this.#sender.retryNow();
        return;
      case "error": {
        const v = statusVerdict(s.error, this.#everConnected);
        if (v.kind === "notice") this.#store.setNotice(v.text);
        else void this.#terminate(v.kind, v.reason);
        return;
      }
      default:
        return;
    }
  }

  async #terminate(state: SessionState, reason: string): Promise<void> {
    if (isFinal(this.#store.state)) return;
    this.#store.setState(state, reason);
    this.#scope.close();
    const nc = this.#nc;
    // A revoked or expired connection would only retry forever: close it now.
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    this.#closedResolve({ state, reason });
  }
}

function userKeyOf(jwt: string): string {
  let sub: unknown;
  try {
    sub = decodeJwtUnverified(jwt).payload.sub;
  } catch (err) {
    throw new ChatError("CHAT_CREDS_MISMATCH", `the user JWT does not decode: ${text(err)}`, {
      cause: err,
    });
  }
  if (typeof sub !== "string" || !isPublicKey(sub, "U")) {
    throw new ChatError(
      "CHAT_CREDS_MISMATCH",
      "the JWT is not a user JWT (its sub is no user key)",
    );
  }
  return sub;
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
