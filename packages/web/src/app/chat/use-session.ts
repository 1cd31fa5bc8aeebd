// The React adapter of the shared ChatSession (@natschat/client): one session per stored
// identity, started on mount and stopped on unmount, rendered through useSyncExternalStore.
import {
  ChatError,
  ChatSession,
  type ChatSession as ChatSessionType,
  type ChatSnapshot,
} from "@natschat/client";
import { formatCreds, parseCreds } from "@natschat/protocol";
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { type StoredIdentity, saveIdentity } from "../identity-store.ts";
import { connectWebSocket } from "../nats.ts";

/** Where starting the session stands. */
export type SessionStart =
  | { phase: "starting"; session: ChatSessionType }
  | { phase: "started"; session: ChatSessionType }
  | { phase: "failed"; error: string; refused: boolean };

/** Creates and starts the session for `identity`; stops it when the component goes away. */
export function useChatSession(
  config: WebRuntimeConfig,
  identity: StoredIdentity,
  attempt: number,
): SessionStart | undefined {
  const [start, setStart] = useState<SessionStart>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` restarts the session on purpose
  useEffect(() => {
    let session: ChatSessionType | undefined;
    let cancelled = false;
    void (async () => {
      try {
        const creds = await parseCreds(identity.creds);
        if (cancelled) return;
        const s = new ChatSession(
          { jwt: creds.jwt, seed: creds.seed },
          {
            servers: config.websocketUrls,
            connect: connectWebSocket,
            chatAccount: config.chatAccount,
            chatSigningKeys: config.chatSigningKeys,
            channels: config.channels,
            // the session renews its JWT before expiry; the saved login follows
            onRenewed: (renewed) =>
              saveIdentity(config.chatAccount, {
                ...identity,
                creds: formatCreds(renewed.jwt, renewed.seed),
              }),
            name: "natschat-web",
          },
        );
        session = s;
        setStart({ phase: "starting", session: s });
        await s.start();
        if (!cancelled) setStart({ phase: "started", session: s });
      } catch (err) {
        if (cancelled) return;
        const text = err instanceof Error ? err.message : String(err);
        // The server refusing our creds at connect time means they were revoked (or expired).
        const refused = err instanceof ChatError && err.code === "CHAT_CREDS_REFUSED";
        setStart({ phase: "failed", error: text, refused });
      }
    })();
    // A page that closes says goodbye at once (others see us offline), and a page restored from
    // the back/forward cache starts over: its session was stopped on the way out.
    const onPageHide = () => void session?.leave("page closed");
    const onPageShow = (e: PageTransitionEvent) => {
      if (e.persisted) window.location.reload();
    };
    window.addEventListener("pagehide", onPageHide);
    window.addEventListener("pageshow", onPageShow);
    return () => {
      window.removeEventListener("pagehide", onPageHide);
      window.removeEventListener("pageshow", onPageShow);
      cancelled = true;
      // Unmounting (logout, page change) ends the session; it says goodbye and drains.
      void session?.stop();
    };
  }, [config, identity.creds, attempt]);
  return start;
}

/** The session's current snapshot; re-renders on every change. */
export function useSnapshot(session: ChatSessionType): ChatSnapshot {
  const subscribe = useCallback((cb: () => void) => session.onChange(cb), [session]);
  const get = useCallback(() => session.snapshot(), [session]);
  return useSyncExternalStore(subscribe, get);
}
