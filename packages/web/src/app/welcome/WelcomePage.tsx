// The Welcome page: pick a name and join. The browser makes its own user key, registers it
// through the public bootstrap creds and keeps the checked creds; the service's name errors are
// shown inline. A revoked user lands here with the notice "Your access has been revoked".
import { NAME_MAX_LENGTH } from "@natschat/protocol";
import { type ChangeEvent, type FormEvent, useEffect, useId, useState } from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { Icon } from "../Icon.tsx";
import type { StoredIdentity } from "../identity-store.ts";
import { navigate } from "../route.ts";
import { checkTypedName } from "./name-hint.ts";

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

export function WelcomePage(props: {
  config: WebRuntimeConfig;
  notice: string | undefined;
  /** The name this browser logged out of: a "taken" refusal of it says how to come back. */
  formerName?: string | undefined;
  onDismissNotice: () => void;
  onJoined: (identity: StoredIdentity) => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const live = checkTypedName(name);

  useEffect(() => {
    loadRegistration().catch(() => {
      // Loading is retried on Join, which then shows the error.
    });
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || live.problem) return;
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

  const shownProblem = error?.message ?? live.problem;
  // "taken" for the name this browser logged out of: it is ours, and its creds file gets us back
  const ownTaken =
    error?.code === "NAME_TAKEN" && props.formerName !== undefined && props.formerName === live.name
      ? props.formerName
      : undefined;
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
            <button
              type="submit"
              className="primary"
              disabled={busy || name.trim() === "" || live.problem !== undefined}
            >
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
              {ownTaken ? (
                <>
                  "{ownTaken}" is already taken, by your own key: you logged out of it in this
                  browser. To get back in, use the creds file you downloaded ({ownTaken}.creds):{" "}
                  <label className="file-link">
                    <input
                      type="file"
                      accept=".creds,text/plain"
                      onChange={onCredsFile}
                      aria-label={`Use ${ownTaken}'s creds file`}
                    />
                    choose {ownTaken}.creds
                  </label>
                </>
              ) : (
                shownProblem
              )}
            </p>
          ) : (
            <p id={hintId} className="field-hint">
              {live.name && live.name !== name.trim() ? `You will be "${live.name}". ` : ""}1 to{" "}
              {NAME_MAX_LENGTH} characters: letters, digits, '-' or '_', starting with a letter or a
              digit.
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
