// What every flag of every verb means, for `natschat VERB --help` (args.ts prints it). A table,
// not text inside each verb, so a new verb's flags slot in by adding rows: a flag name's common
// meaning under "*", and a verb's own meaning of it under the verb. `value` names what the flag
// takes (omitted for a switch).
import { ROLES } from "@natschat/trust";

/** How one flag is explained. */
export interface FlagHelp {
  /** What the flag takes, e.g. "URL" (none for a switch). */
  value?: string;
  help: string;
}

const COMMON: Record<string, FlagHelp> = {
  dir: { value: "DIR", help: "the data dir (default ./.natschat, or $NATSCHAT_DIR)" },
  help: { help: "show this help" },
  server: { value: "URL", help: "a NATS server to connect to (default: the one in DIR/up.json)" },
  creds: { value: "FILE", help: "connect with this creds file instead of the data dir's" },
  json: { help: "print JSON instead of a table" },
  force: { help: "replace what is already there" },
  timeout: { value: "MS", help: "how long to wait for an answer, in milliseconds" },
  "tls-ca": { value: "FILE", help: "trust this CA for TLS (default: DIR/up.json's tlsCa)" },
  "log-level": { value: "debug|info|warn|error", help: "the lowest level logged (default info)" },
  "replica-id": { value: "ID", help: "this replica's name in logs and $SRV (default: random)" },
  replicas: { value: "1|3|5", help: "JetStream replicas of the service's state" },
  "chat-account": { value: "KEY", help: "the CHAT account's public key (default: DIR/trust.json)" },
  port: { value: "N", help: "client port (default 4222; the next free one unless --strict-ports)" },
  "ws-port": { value: "N", help: "websocket port (default 9222)" },
  "http-port": { value: "N", help: "monitoring port (default 8222)" },
  count: { value: "N", help: "stop after N messages (sub) or requests (reply)" },
  queue: { value: "Q", help: "join queue group Q (sub, reply)" },
  role: {
    value: "ROLE",
    help: `connect as this role of the data dir, one of: ${ROLES.join(", ")}`,
  },
};

const BY_VERB: Record<string, Record<string, FlagHelp>> = {
  init: {
    operator: { value: "NAME", help: "the operator's name (default natschat)" },
    force: { help: "make a new trust tree even if one exists (old creds stop working)" },
    tls: { help: "also make the development CA and server certificate (DIR/tls)" },
  },
  up: {
    topology: {
      value: "single|cluster|supercluster|leaf",
      help: "servers to run (default single)",
    },
    regions: { value: "A,B", help: "region names of a supercluster or a leaf (hub first)" },
    tls: { help: "TLS on every listener, with the development CA (DIR/tls)" },
    "web-port": { value: "N", help: "port of the web app (default 8080)" },
    "strict-ports": { help: "fail when a port is taken instead of using the next free one" },
    host: {
      value: "ADDRESS",
      help: "bind every listener here (default 127.0.0.1; 0.0.0.0 for the LAN, with --tls)",
    },
  },
  join: {
    out: { value: "FILE", help: "write the creds here (default DIR/users/NAME.creds)" },
    force: { help: "overwrite an existing creds file" },
    creds: {
      value: "FILE",
      help: "the bootstrap creds to register with (default: the data dir's)",
    },
    "chat-signing-key": {
      value: "KEY[,KEY]",
      help: "the CHAT account's signing keys, to check the JWT (default: DIR/trust.json)",
    },
    timeout: { value: "MS", help: "how long to wait for the access service (default 10000)" },
  },
  users: {
    watch: { help: "after the list, follow registrations and revocations until Ctrl-C" },
    creds: { value: "FILE", help: "admin creds (default DIR/creds/admin.creds)" },
  },
  revoke: {
    release: { help: "also free the name for someone else (the key stays revoked)" },
    creds: { value: "FILE", help: "admin creds (default DIR/creds/admin.creds)" },
  },
  moderate: {
    dms: { help: "the message is a DM (default: a channel post)" },
    creds: { value: "FILE", help: "admin creds (default DIR/creds/admin.creds)" },
  },
  status: {
    wait: { value: "MS", help: "how long to collect the servers' and services' answers" },
  },
  chat: {
    creds: { value: "FILE", help: "chat with this creds file instead of registering NAME" },
    channels: { value: "A,B,C", help: "the channels to join (default KUBECON,NATS,General)" },
    history: { value: "N", help: "messages of history to load per conversation (default 100)" },
  },
  certs: {
    host: { value: "NAME_OR_IP", help: "another name or address the certificate is for (repeat)" },
    force: { help: "make new certificates even if they exist" },
  },
  push: {
    creds: { value: "FILE", help: "creds that may push account JWTs (default: the push role's)" },
  },
  server: {},
  access: {
    server: { value: "URL[,URL]", help: "the NATS servers to connect to" },
    creds: { value: "FILE", help: "the access role's creds (default DIR/creds/access.creds)" },
    "push-creds": { value: "FILE", help: "creds that push account JWTs when revoking" },
    "chat-signing-key": { value: "FILE", help: "the CHAT account's signing key seed" },
    "operator-signing-key": { value: "FILE", help: "the operator's signing key seed (revocation)" },
    "legacy-plaintext": { help: "also serve the talk's plain-text requests (server-made keys)" },
    "user-expiry": { value: "DURATION", help: "how long an issued user JWT lasts (default 30d)" },
    "rate-global": { value: "RATE/SECONDS[:BURST]", help: "requests for the whole service" },
    "rate-name": { value: "RATE/SECONDS[:BURST]", help: "requests per name" },
    "rate-key": { value: "RATE/SECONDS[:BURST]", help: "requests per key" },
    "rate-address": { value: "RATE/SECONDS[:BURST]", help: "requests per client address" },
    "quota-address": { value: "COUNT/SECONDS", help: "new names per client address" },
    "reserved-names": { value: "A,B", help: "names nobody may register" },
    "unused-expiry": { value: "DURATION", help: "release a name never used after this (7d)" },
    "expiry-grace": { value: "DURATION", help: "release an expired name after this (7d)" },
    "max-names": { value: "N", help: "most names in the registry" },
    "presence-period": {
      value: "DURATION",
      help: "heartbeat and tick period of the presence feed (default 30s)",
    },
  },
  history: {
    server: { value: "URL[,URL]", help: "the NATS servers to connect to" },
    creds: { value: "FILE", help: "the history role's creds (default DIR/creds/history.creds)" },
    "api-creds": { value: "FILE", help: "the history API role's creds (CHAT side)" },
    quota: { value: "SIZE", help: "stored bytes per sender (e.g. 8MiB)" },
  },
  deploy: {
    out: { value: "DIR", help: "write the Helm values and manifests here (required)" },
    namespace: { value: "NS", help: "the Kubernetes namespace" },
    regions: { value: "HUB,SECOND", help: "two regions make a supercluster" },
    edge: { value: "NAME", help: "add a leaf (edge) server of this name" },
    image: { value: "IMAGE", help: "the natschat container image" },
    "no-tls": { help: "no TLS (only for a cluster you fully trust)" },
    "public-host": { value: "NAME[,NAME]", help: "the names clients reach the servers by" },
    "ws-url": { value: "URL[,URL]", help: "websocket URLs the web app hands to browsers" },
    "cluster-domain": { value: "DOMAIN", help: "the cluster's DNS domain (default cluster.local)" },
    "access-replicas": { value: "N", help: "access-service replicas" },
    "cert-manager": {
      help: "server certificates from cert-manager (k8s/cert-manager.yaml), not the dev CA",
    },
    "cert-issuer": {
      value: "Kind/NAME",
      help: "the Issuer or ClusterIssuer to use (default: a CA Issuer bootstrapped for natschat)",
    },
  },
  web: {
    host: { value: "ADDRESS", help: "the address to listen on (default 127.0.0.1)" },
    port: { value: "N", help: "the port to listen on (default 8080)" },
    "ws-url": {
      value: "URL[,URL]",
      help: "websocket URLs the page connects to (default: up.json's)",
    },
    "bootstrap-creds": { value: "FILE", help: "the public bootstrap creds handed to browsers" },
    "chat-signing-keys": {
      value: "KEY[,KEY]",
      help: "the CHAT account's signing keys (default: DIR/trust.json)",
    },
  },
  backup: {
    out: { value: "FILE", help: "write the backup here (created 0600; it holds every secret)" },
  },
  "meta-check": {
    monitor: {
      value: "URL[,URL]",
      help: "monitoring URLs of the servers the meta group must span",
    },
    optional: {
      value: "URL[,URL]",
      help: "servers counted only once their names resolve (e.g. another region's pods)",
    },
    namespace: { value: "NS", help: "the Kubernetes namespace, named in the fix it prints" },
    timeout: { value: "SECONDS", help: "how long to wait for a complete group" },
  },
  sub: { count: { value: "N", help: "stop after N messages" } },
  reply: { count: { value: "N", help: "stop after N requests" } },
};

/** How `flag` of `verb` is explained, if the table knows it. */
export function flagHelp(verb: string, flag: string): FlagHelp | undefined {
  return BY_VERB[verb]?.[flag] ?? COMMON[flag];
}
