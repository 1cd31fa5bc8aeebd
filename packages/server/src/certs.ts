// The development CA and server certificates for TLS on every listener (client, websocket, route,
// gateway, leafnode), for local runs; a Kubernetes render can take its certificates from
// cert-manager instead (packages/deploy). ECDSA P-256, signed with node:crypto; keys are written
// 0600, and the CA key stays in the data dir.
// Why not a library (@peculiar/x509, node-forge): Node 20 can parse certificates but not write
// them, and the two shapes needed here (a CA, a server certificate with SANs) take ~60 lines of
// DER (der.ts). node-forge has no ECDSA. @peculiar/x509 2.2.0 adds 19 packages to this tree (the
// ASN.1 schemas of CMS, CSR, RSA and post-quantum keys, a DI container), makes issuing async for
// every caller, and its IP parser (@peculiar/asn1-x509 IpConverter) reads "::ffff:10.1.2.3" as
// hex groups too, so ipv6Bytes below would stay ours anyway. What is written here is checked by
// node:crypto's X509Certificate, nats-server and Chromium in the tests (certs.test.ts,
// chat-wss.test.ts).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import {
  bitString,
  boolean,
  explicit,
  implicit,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der.ts";
import { ServerLayerError } from "./errors.ts";
import type { TlsFiles } from "./server-config.ts";

const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyId: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyId: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

/** Hosts every local certificate covers. */
export const LOCAL_HOSTS = ["127.0.0.1", "::1", "localhost"];
const DAY = 24 * 3600 * 1000;
/** Certificates closer than this to expiry are re-issued by ensureDevCerts. */
const RENEW_BEFORE_DAYS = 30;

/** A certificate and its private key, both PEM. */
export interface CertPair {
  certPem: string;
  keyPem: string;
}

/** Where the TLS material of a data dir lives. */
export function tlsLayout(dir: string) {
  const tls = join(dir, "tls");
  return {
    dir: tls,
    ca: join(tls, "ca.pem"),
    caKey: join(tls, "ca-key.pem"),
    cert: join(tls, "server.pem"),
    key: join(tls, "server-key.pem"),
  };
}

function name(commonName: string): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(rdn(OID.organization, "natschat development"), rdn(OID.commonName, commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** The raw EC point of a P-256 public key (what the key identifiers hash). */
function ecPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (!jwk.x || !jwk.y) throw new ServerLayerError("TLS_KEY", "expected an EC public key");
  return Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, "base64url"),
    Buffer.from(jwk.y, "base64url"),
  ]);
}

function keyId(key: KeyObject): Buffer {
  return createHash("sha1").update(ecPoint(key)).digest();
}

function subjectAltNames(hosts: string[]): Buffer {
  return sequence(
    ...hosts.map((h) => {
      const family = isIP(h);
      if (family === 4) return implicit(7, Buffer.from(h.split(".").map(Number)));
      if (family === 6) return implicit(7, ipv6Bytes(h));
      return implicit(2, Buffer.from(h, "ascii")); // dNSName: IA5String content, context tag 2
    }),
  );
}

/** The 16 bytes of an IPv6 address (an iPAddress SAN), embedded IPv4 forms included. */
export function ipv6Bytes(addr: string): Buffer {
  // The WHATWG URL parser writes an IPv6 host in hex groups only: "::ffff:10.1.2.3" becomes
  // "::ffff:a01:203", so the groups below never hold a dotted IPv4 tail.
  const hex = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  const [head = "", tail = ""] = hex.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = hex.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  if (groups.length !== 8)
    throw new ServerLayerError("TLS_BAD_HOST", `"${addr}" is not an IPv6 address`);
  return Buffer.from(
    groups.flatMap((g) => [(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff]),
  );
}

function certificate(opts: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  issuerPublicKey: KeyObject;
  issuerKey: KeyObject;
  isCa: boolean;
  hosts: string[];
  validDays: number;
}): string {
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const sigAlg = sequence(oid(OID.ecdsaWithSha256));
  const spki = opts.publicKey.export({ type: "spki", format: "der" });
  const extensions = [
    extension(OID.basicConstraints, true, opts.isCa ? sequence(boolean(true)) : sequence()),
    // CA: digitalSignature, keyCertSign, cRLSign; server: digitalSignature
    extension(
      OID.keyUsage,
      true,
      opts.isCa ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7),
    ),
    extension(OID.subjectKeyId, false, octetString(keyId(opts.publicKey))),
    extension(OID.authorityKeyId, false, sequence(implicit(0, keyId(opts.issuerPublicKey)))),
  ];
  if (!opts.isCa) {
    // routes and gateways are mutual TLS: the same certificate serves and dials
    extensions.push(
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
      extension(OID.subjectAltName, false, subjectAltNames(opts.hosts)),
    );
  }
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    sigAlg,
    name(opts.issuer),
    sequence(time(new Date(now - 3600_000)), time(new Date(now + opts.validDays * DAY))),
    name(opts.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, opts.issuerKey);
  const der = sequence(tbs, sigAlg, bitString(signature));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/**
 * A new P-256 key pair. The generation itself encodes the private key, which is imported: an
 * export of a freshly generated KeyObject can deadlock Node 20 (see trust's node-ed25519.ts).
 */
function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey: pem } = generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function keyPem(k: KeyObject): string {
  return k.export({ type: "pkcs8", format: "pem" }).toString();
}

/** A new self-signed development CA (10 years). */
export function createCa(commonName = "natschat development CA", validDays = 3650): CertPair {
  const { privateKey, publicKey } = newKey();
  const certPem = certificate({
    subject: commonName,
    issuer: commonName,
    publicKey,
    issuerPublicKey: publicKey,
    issuerKey: privateKey,
    isCa: true,
    hosts: [],
    validDays,
  });
  return { certPem, keyPem: keyPem(privateKey) };
}

/** A server certificate signed by the CA, valid for the given DNS names and IP addresses. */
export function issueServerCert(
  ca: CertPair,
  hosts: string[],
  opts: { commonName?: string; validDays?: number } = {},
): CertPair {
  if (hosts.length === 0)
    throw new ServerLayerError("TLS_NO_HOSTS", "a server certificate needs at least one host");
  const caCert = new X509Certificate(ca.certPem);
  const { privateKey, publicKey } = newKey();
  const certPem = certificate({
    subject: opts.commonName ?? hosts[0] ?? "natschat",
    issuer: commonNameOf(caCert),
    publicKey,
    issuerPublicKey: caCert.publicKey,
    issuerKey: createPrivateKey(ca.keyPem),
    isCa: false,
    hosts,
    validDays: opts.validDays ?? 365,
  });
  return { certPem, keyPem: keyPem(privateKey) };
}

function commonNameOf(cert: X509Certificate): string {
  const cn = /CN=([^\n]+)/.exec(cert.subject);
  return cn?.[1] ?? "natschat development CA";
}

/** The hosts of `wanted` a certificate does not cover (a wildcard wanted must be listed as is). */
export function missingHosts(certPem: string, wanted: string[]): string[] {
  const cert = new X509Certificate(certPem);
  const sans = (cert.subjectAltName ?? "").split(", ");
  return wanted.filter((h) => {
    if (isIP(h)) return cert.checkIP(h) === undefined;
    if (h.startsWith("*.")) return !sans.includes(`DNS:${h}`);
    return cert.checkHost(h) === undefined;
  });
}

async function writeKeyFile(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function readIf(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ServerLayerError(
      "TLS_UNREADABLE",
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

/** What ensureDevCerts did. */
export interface CertReport {
  files: TlsFiles;
  created: string[];
  kept: string[];
}

/**
 * Makes (or reuses) DIR/tls: a development CA and one server certificate for LOCAL_HOSTS plus
 * extra hosts. The server certificate is re-issued when it misses a host, expires within 30 days
 * or was not signed by the CA; the CA is kept unless force is set (clients trust it).
 */
export async function ensureDevCerts(opts: {
  dir: string;
  hosts?: string[];
  force?: boolean;
}): Promise<CertReport> {
  const paths = tlsLayout(opts.dir);
  const hosts = [...new Set([...LOCAL_HOSTS, ...(opts.hosts ?? [])])];
  for (const h of hosts) {
    if (
      !isIP(h) &&
      !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(
        h,
      )
    )
      throw new ServerLayerError(
        "TLS_BAD_HOST",
        `"${h}" is neither an IP address nor a DNS name; use e.g. 10.0.0.5 or chat.example.com`,
      );
  }
  const report: CertReport = {
    files: { ca: paths.ca, cert: paths.cert, key: paths.key },
    created: [],
    kept: [],
  };
  let ca: CertPair | undefined;
  const caCert = opts.force ? undefined : await readIf(paths.ca);
  const caKey = opts.force ? undefined : await readIf(paths.caKey);
  if (caCert && caKey) {
    ca = { certPem: caCert, keyPem: caKey };
    try {
      const c = new X509Certificate(caCert);
      if (!c.ca || !c.checkPrivateKey(createPrivateKey(caKey)))
        throw new Error("not a CA, or the key does not match");
    } catch (err) {
      throw new ServerLayerError(
        "TLS_CA_CORRUPT",
        `${paths.ca} or ${paths.caKey} is damaged (${(err as Error).message}); re-create with \`natschat certs --force\` (clients must then trust the new CA)`,
      );
    }
    report.kept.push("ca");
  } else {
    ca = createCa();
    await writeKeyFile(paths.caKey, ca.keyPem, 0o600);
    await writeKeyFile(paths.ca, ca.certPem, 0o644);
    report.created.push("ca");
  }
  const existing = report.created.length ? undefined : await readIf(paths.cert);
  const existingKey = existing ? await readIf(paths.key) : undefined;
  if (existing && existingKey && serverCertUsable(existing, existingKey, ca, hosts)) {
    report.kept.push("server certificate");
  } else {
    const server = issueServerCert(ca, hosts, { commonName: "natschat server" });
    await writeKeyFile(paths.key, server.keyPem, 0o600);
    await writeKeyFile(paths.cert, server.certPem, 0o644);
    report.created.push("server certificate");
  }
  return report;
}

function serverCertUsable(certPem: string, keyPem: string, ca: CertPair, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    return (
      cert.verify(caCert.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      new Date(cert.validTo).getTime() - Date.now() > RENEW_BEFORE_DAYS * DAY &&
      missingHosts(certPem, hosts).length === 0
    );
  } catch {
    return false; // unreadable: issue a new one
  }
}

/** The SHA-256 of a certificate's public key, base64 (Chromium's --ignore-certificate-errors-spki-list). */
export function spkiSha256(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}
