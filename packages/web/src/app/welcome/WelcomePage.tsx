// The Welcome page: pick a name and join. The browser makes its own user key, registers it
// through the public bootstrap creds and keeps the checked creds; the service's name errors are
// shown inline. A revoked user lands here with the notice "Your access has been revoked".
import { NAME_MAX_LENGTH, normalizeName } from "@natschat/protocol";
import { type ChangeEvent, type FormEvent, useEffect, useId, useState } from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { Icon } from "../Icon.tsx";
import type { StoredIdentity } from "../identity-store.ts";
import { navigate } from "../route.ts";

// The NATS client and registration code is a separate chunk, so this page shows at once; it
// starts loading as soon as the page is up, well before anyone can press Join.
const loadRegistration = () => import("./registration.ts");

function problemOf(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return {
    code: typeof code === "string" ? code : "ERROR",
    message: err instanceof Error ? err.message : String(err),
  };
}

function preview(name: string): { normalized?: string; problem?: string } {
  if (name.trim() === "") return {};
  try {
    return { normalized: normalizeName(name) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

export function WelcomePage(props: {
  config: WebRuntimeConfig;
  notice: string | undefined;
  onDismissNotice: () => void;
  onJoined: (identity: StoredIdentity) => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const [touched, setTouched] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const live = preview(name);

  useEffect(() => {
    loadRegistration().catch(() => {
      // Loading is retried on Join, which then shows the error.
    });
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const { registerName } = await loadRegistration();
      props.onJoined(await registerName(props.config, name));
    } catch (err) {
      setError(problemOf(err));
    } finally {
      setBusy(false);
    }
  };

  const onCredsFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setError(undefined);
    try {
      const { identityFromCredsFile } = await loadRegistration();
      props.onJoined(await identityFromCredsFile(props.config, await file.text()));
    } catch (err) {
      setError(problemOf(err));
    }
  };

  const shownProblem = error?.message ?? (touched || name.length > 3 ? live.problem : undefined);
  return (
    <div className="welcome">
      <main className="welcome-card">
        <div className="welcome-logo" aria-hidden="true">
          <Icon name="logo" size={28} />
        </div>
        <h1>natschat</h1>
        <p className="tagline">
          A chat on NATS with decentralized JWT auth. Your key is made in this browser and never
          leaves it.
        </p>
        {props.notice ? (
          <div className="notice" role="alert" data-testid="welcome-notice">
            <strong>{props.notice}</strong>
            <button type="button" className="link" onClick={props.onDismissNotice}>
              Dismiss
            </button>
          </div>
        ) : null}
        <form className="join" onSubmit={submit} noValidate>
          <label htmlFor={inputId}>Pick a name</label>
          <div className="join-row">
            <input
              id={inputId}
              name="name"
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              placeholder="e.g. ada"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setError(undefined);
              }}
              aria-invalid={shownProblem ? true : undefined}
              aria-describedby={shownProblem ? errorId : hintId}
              disabled={busy}
              // biome-ignore lint/a11y/noAutofocus: the name is the only thing to do on this page
              autoFocus
            />
            <button type="submit" className="primary" disabled={busy || name.trim() === ""}>
              {busy ? "Joining…" : "Join the chat"}
            </button>
          </div>
          {shownProblem ? (
            <p
              id={errorId}
              className="field-error"
              role="alert"
              data-code={error?.code ?? "NAME_INVALID"}
            >
              {shownProblem}
            </p>
          ) : (
            <p id={hintId} className="field-hint">
              {live.normalized && live.normalized !== name.trim()
                ? `You will be "${live.normalized}". `
                : ""}
              1 to {NAME_MAX_LENGTH} characters: letters, digits, '-' or '_'.
            </p>
          )}
        </form>
        <ol className="how">
          <li>This browser makes an Ed25519 key for you.</li>
          <li>It asks the access service for your name, signed with that key.</li>
          <li>It checks the returned JWT is for its key and signed by the CHAT account.</li>
        </ol>
        <div className="welcome-footer">
          <label className="file-link">
            <input
              type="file"
              accept=".creds,text/plain"
              onChange={onCredsFile}
              aria-label="Use a creds file"
            />
            Have a creds file? Use it
          </label>
          <span aria-hidden="true">·</span>
          <a
            href="/admin"
            onClick={(e) => {
              e.preventDefault();
              navigate("admin");
            }}
          >
            Admin
          </a>
        </div>
      </main>
    </div>
  );
}
