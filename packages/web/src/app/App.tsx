// The app shell: loads the runtime config, checks WebCrypto, and shows Welcome, Chat or Admin.
// The admin page is a separate chunk, loaded only when it is opened.
import { renewBeforeConnect } from "@natschat/client/renewal";
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import type { WebRuntimeConfig } from "../config.ts";
import {
  forgetIdentity,
  getFormerName,
  getNotice,
  loadIdentity,
  type StoredIdentity,
  saveIdentity,
  setFormerName,
  setNotice,
} from "./identity-store.ts";
import { useRoute } from "./route.ts";
import { fetchRuntimeConfig } from "./runtime.ts";
import { webCryptoProblem } from "./webcrypto.ts";
import { WelcomePage } from "./welcome/WelcomePage.tsx";

// Pages are separate chunks: Welcome loads without the NATS client (registration.ts, loaded when
// a user joins or a saved JWT is due for renewal), the chat page with the session and JetStream,
// and the admin page only when it is opened.
const ChatPage = lazy(() => import("./chat/ChatPage.tsx"));
const AdminPage = lazy(() => import("./admin/AdminPage.tsx"));

type Boot =
  | { phase: "loading" }
  | { phase: "error"; title: string; message: string }
  | { phase: "ready"; config: WebRuntimeConfig; identity?: StoredIdentity; notice?: string };

/** The message a revoked user reads on Welcome. */
export const REVOKED_NOTICE = "Your access has been revoked.";

/**
 * The stored identity, renewed first when its JWT is due (expired or within a day, or issued with
 * the protocol v2 permissions an upgrade revoked: renewBeforeConnect), so that a user keeps their
 * name across expiries and upgrades. A refusal (the name was revoked, or is not
 * this key's) forgets the identity; an access service that does not answer keeps it, and a JWT
 * that is still valid is used as it is.
 */
async function storedIdentity(
  config: WebRuntimeConfig,
): Promise<{ identity?: StoredIdentity; notice?: string }> {
  const stored = await loadIdentity(config.chatAccount);
  if (!stored.identity) return stored.problem ? { notice: stored.problem } : {};
  const saved = { jwt: stored.jwt ?? "", publicKey: stored.identity.key, expires: stored.expires };
  if (!renewBeforeConnect(saved)) return { identity: stored.identity };
  const { RegistrationError, renewIdentity } = await import("./welcome/registration.ts");
  try {
    const renewed = await renewIdentity(config, stored.identity);
    saveIdentity(config.chatAccount, renewed);
    return { identity: renewed };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const expired = (stored.expires?.getTime() ?? 0) <= Date.now();
    if (err instanceof RegistrationError && err.code !== "UNAVAILABLE") {
      forgetIdentity(config.chatAccount);
      return { notice: `Your access could not be renewed: ${message}` };
    }
    if (!expired) return { identity: stored.identity };
    return {
      notice: `Your access expired and could not be renewed yet (${message}). Reload to try again.`,
    };
  }
}

function Screen(props: { title: string; message?: string; busy?: boolean }) {
  return (
    <div className="center-screen">
      {props.busy ? <div className="spinner" aria-hidden="true" /> : null}
      <div className={props.busy ? "" : "card"}>
        {props.busy ? <p role="status">{props.title}</p> : <h1>{props.title}</h1>}
        {props.message ? (
          <p className="error-text" role="alert">
            {props.message}
          </p>
        ) : null}
      </div>
    </div>
  );
}

export function App() {
  const route = useRoute();
  const [boot, setBoot] = useState<Boot>({ phase: "loading" });

  const start = useCallback(async () => {
    const problem = await webCryptoProblem();
    if (problem) {
      setBoot({ phase: "error", title: "This browser cannot run natschat", message: problem });
      return;
    }
    try {
      const config = await fetchRuntimeConfig();
      const stored = await storedIdentity(config);
      const notice = stored.notice ?? getNotice();
      setBoot({
        phase: "ready",
        config,
        ...(stored.identity ? { identity: stored.identity } : {}),
        ...(notice ? { notice } : {}),
      });
    } catch (err) {
      setBoot({
        phase: "error",
        title: "natschat is not available",
        message: (err as Error).message,
      });
    }
  }, []);
  useEffect(() => {
    void start();
  }, [start]);

  const ready = boot.phase === "ready" ? boot : undefined;
  const chatAccount = ready?.config.chatAccount;

  const onJoined = useCallback(
    (identity: StoredIdentity) => {
      if (!chatAccount) return;
      saveIdentity(chatAccount, identity);
      setFormerName(chatAccount, undefined);
      setNotice(undefined);
      setBoot((b) => (b.phase === "ready" ? { phase: "ready", config: b.config, identity } : b));
    },
    [chatAccount],
  );
  const leave = useCallback(
    (notice?: string) => {
      if (!chatAccount) return;
      forgetIdentity(chatAccount);
      setNotice(notice);
      setBoot((b) =>
        b.phase === "ready"
          ? { phase: "ready", config: b.config, ...(notice ? { notice } : {}) }
          : b,
      );
    },
    [chatAccount],
  );
  const onEnded = useCallback(
    (state: "revoked" | "expired") => {
      if (state === "revoked") {
        leave(REVOKED_NOTICE);
        return;
      }
      // expired: start over, which renews the JWT for the same key and name
      setBoot({ phase: "loading" });
      void start();
    },
    [leave, start],
  );
  const loggedOutName = ready?.identity?.name;
  const onLogout = useCallback(() => {
    // the name stays reserved for the key just forgotten: Welcome says how to come back as it
    if (chatAccount && loggedOutName) setFormerName(chatAccount, loggedOutName);
    leave();
  }, [leave, chatAccount, loggedOutName]);

  if (boot.phase === "loading") return <Screen title="Loading natschat…" busy />;
  if (boot.phase === "error") return <Screen title={boot.title} message={boot.message} />;
  if (route === "admin") {
    return (
      <Suspense fallback={<Screen title="Loading the admin page…" busy />}>
        <AdminPage config={boot.config} />
      </Suspense>
    );
  }
  if (boot.identity) {
    return (
      <Suspense fallback={<Screen title={`Connecting as ${boot.identity.name}…`} busy />}>
        <ChatPage
          key={boot.identity.key}
          config={boot.config}
          identity={boot.identity}
          onEnded={onEnded}
          onLogout={onLogout}
        />
      </Suspense>
    );
  }
  return (
    <WelcomePage
      config={boot.config}
      notice={boot.notice}
      formerName={getFormerName(boot.config.chatAccount)}
      onDismissNotice={() => {
        setNotice(undefined);
        setBoot((b) => (b.phase === "ready" ? { phase: "ready", config: b.config } : b));
      }}
      onJoined={onJoined}
    />
  );
}
