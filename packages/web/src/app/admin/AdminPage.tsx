// The admin page: load the admin creds (file picker or drop), then a live user list (name, key,
// issued, expires, online, revoked) and revocation with confirmation. Creds that are not the
// admin role's are refused before connecting; the admin's are kept in this browser across a
// reload (admin-creds.ts) until "Log out". At phone width the table keeps name, presence,
// status and Revoke.
import {
  type DragEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { ConfirmDialog } from "../ConfirmDialog.tsx";
import { Icon } from "../Icon.tsx";
import { navigate } from "../route.ts";
import {
  AdminCredsError,
  forgetAdminCreds,
  loadAdminCreds,
  saveAdminCreds,
} from "./admin-creds.ts";
import { AdminModel, type AdminModel as AdminModelType, type AdminUser } from "./admin-model.ts";

function when(iso: string | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? "—"
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function CredsDrop(props: { busy: boolean; error?: string; onCreds: (text: string) => void }) {
  const [over, setOver] = useState(false);
  const take = async (file: File | undefined) => {
    if (file) props.onCreds(await file.text());
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void take(e.dataTransfer.files[0]);
  };
  return (
    <section
      className={`drop${over ? " over" : ""}`}
      aria-label="Load the admin creds"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      data-testid="creds-drop"
    >
      <div className="drop-icon" aria-hidden="true">
        <Icon name="key" size={30} />
      </div>
      <h2>Load the admin creds</h2>
      <p>
        Drop the admin creds file here, or choose it: <code>creds/admin.creds</code> in the data
        directory of <code>natschat up</code> (the <code>--dir</code> it ran with;{" "}
        <code>.natschat</code> in its working directory when none was given). It is never uploaded;
        this browser keeps it until you log out.
      </p>
      <label className="primary file-button">
        <input
          type="file"
          accept=".creds,text/plain"
          aria-label="Admin creds file"
          disabled={props.busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            void take(file);
          }}
        />
        {props.busy ? "Connecting…" : "Choose admin.creds"}
      </label>
      {props.error ? (
        <p className="field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </section>
  );
}

function UserRow(props: { user: AdminUser; onRevoke: (u: AdminUser) => void }) {
  const u = props.user;
  return (
    <tr data-user={u.name} className={u.revoked ? "revoked" : ""}>
      <th scope="row">
        <span
          className={`presence ${u.online ? "presence-on" : "presence-off"}`}
          aria-hidden="true"
        />
        {u.name}
      </th>
      <td data-col="key">
        <code className="key" title={u.key}>
          {u.key.slice(0, 8)}…{u.key.slice(-6)}
        </code>
      </td>
      <td data-col="issued">{when(u.issued)}</td>
      <td data-col="expires">{when(u.expires)}</td>
      <td data-col="online">{u.online ? "online" : "offline"}</td>
      <td data-col="status">
        {u.revoked ? (
          <span className="pill pill-bad">revoked</span>
        ) : (
          <span className="pill pill-ok">active</span>
        )}
      </td>
      <td>
        {u.revoked ? null : (
          <button
            type="button"
            className="danger small"
            aria-label={`Revoke ${u.name}`}
            onClick={() => props.onRevoke(u)}
          >
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

function useAdmin(model: AdminModelType) {
  const subscribe = useCallback((cb: () => void) => model.onChange(cb), [model]);
  const get = useCallback(() => model.snapshot(), [model]);
  return useSyncExternalStore(subscribe, get);
}

export default function AdminPage(props: { config: WebRuntimeConfig }) {
  const { config } = props;
  const model = useMemo(
    () =>
      new AdminModel(config.websocketUrls, {
        chatAccount: config.chatAccount,
        ...(config.adminAccount ? { adminAccount: config.adminAccount } : {}),
      }),
    [config],
  );
  const snap = useAdmin(model);
  const [filter, setFilter] = useState("");
  const [confirm, setConfirm] = useState<AdminUser>();
  const [busy, setBusy] = useState(false);
  const [toast, setToast] = useState<{ text: string; tone: "ok" | "bad" }>();
  const toastTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    // the admin creds this browser kept: connect with them at once
    const kept = loadAdminCreds(config.chatAccount);
    if (kept) {
      model.connect(kept).catch((err: unknown) => {
        // creds that are no admin's are dropped; a server that is down keeps them for a retry
        if (err instanceof AdminCredsError) forgetAdminCreds(config.chatAccount);
      });
    }
    return () => void model.close();
  }, [model, config.chatAccount]);
  useEffect(() => () => clearTimeout(toastTimer.current), []);

  const show = (text: string, tone: "ok" | "bad") => {
    setToast({ text, tone });
    clearTimeout(toastTimer.current);
    toastTimer.current = setTimeout(() => setToast(undefined), 6000);
  };
  const connect = (text: string) => {
    model.connect(text).then(
      () => saveAdminCreds(config.chatAccount, text),
      () => {
        // the snapshot carries the error, shown under the drop zone
      },
    );
  };
  const logout = () => {
    forgetAdminCreds(config.chatAccount);
    void model.close();
  };
  const revoke = async () => {
    if (!confirm) return;
    setBusy(true);
    try {
      await model.revoke(confirm.name);
      show(`${confirm.name} was revoked: the connection is closed on every server.`, "ok");
    } catch (err) {
      show(`Could not revoke ${confirm.name}: ${(err as Error).message}`, "bad");
    } finally {
      setBusy(false);
      setConfirm(undefined);
    }
  };

  const connected = snap.state === "connected" || snap.state === "reconnecting";
  const f = filter.trim().toLowerCase();
  const users = f
    ? snap.users.filter((u) => u.name.includes(f) || u.key.toLowerCase().includes(f))
    : snap.users;
  const online = snap.users.filter((u) => u.online).length;
  const revoked = snap.users.filter((u) => u.revoked).length;

  return (
    <div className="admin">
      <header className="admin-header">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate("chat");
          }}
        >
          <span className="logo" aria-hidden="true">
            <Icon name="logo" size={17} />
          </span>
          <span className="brand-name">natschat</span>
        </a>
        <h1>Admin</h1>
        <span className="pane-spacer" />
        {connected ? (
          <>
            <output className={`conn conn-${snap.state === "connected" ? "ok" : "warn"}`}>
              <span className="conn-dot" aria-hidden="true" />
              {snap.state === "connected" ? "Connected" : "Reconnecting…"}
              {snap.identity
                ? ` · ${snap.identity.name} role, ${snap.identity.account} account`
                : ""}
            </output>
            <button type="button" className="secondary small" onClick={logout}>
              Log out
            </button>
          </>
        ) : null}
      </header>
      <main className="admin-main">
        {!connected ? (
          <CredsDrop
            busy={snap.state === "connecting"}
            {...(snap.error ? { error: snap.error } : {})}
            onCreds={connect}
          />
        ) : (
          <>
            <div className="admin-toolbar">
              <div className="stats">
                <span>
                  <strong>{snap.users.length}</strong> users
                </span>
                <span>
                  <strong>{online}</strong> online
                </span>
                <span>
                  <strong>{revoked}</strong> revoked
                </span>
              </div>
              <input
                type="search"
                className="search"
                placeholder="Filter by name or key"
                aria-label="Filter users by name or key"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
              />
            </div>
            {snap.error ? (
              <div className="banner bad" role="alert">
                {snap.error}
              </div>
            ) : null}
            <div className="table-wrap">
              <table className="users" aria-label="Registered users" aria-busy={!snap.loaded}>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col" data-col="key">
                      Key
                    </th>
                    <th scope="col" data-col="issued">
                      Issued
                    </th>
                    <th scope="col" data-col="expires">
                      Expires
                    </th>
                    <th scope="col">Online</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {users.map((u) => (
                    <UserRow key={u.name} user={u} onRevoke={setConfirm} />
                  ))}
                </tbody>
              </table>
              {snap.loaded && users.length === 0 ? (
                <p className="messages-empty">
                  {f ? "No user matches the filter." : "Nobody has registered yet."}
                </p>
              ) : null}
            </div>
          </>
        )}
      </main>
      {toast ? (
        <div className={`toast toast-${toast.tone}`} role="status">
          {toast.text}
        </div>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title={`Revoke ${confirm.name}?`}
          confirmLabel={busy ? "Revoking…" : `Revoke ${confirm.name}`}
          danger
          busy={busy}
          onCancel={() => setConfirm(undefined)}
          onConfirm={() => void revoke()}
        >
          <p>
            The server closes {confirm.name}'s connections on every server at once and refuses them
            from then on. The name stays reserved.
          </p>
          <p className="muted">
            Key <code>{confirm.key}</code>
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
