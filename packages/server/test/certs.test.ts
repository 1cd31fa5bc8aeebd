// The development CA and server certificates: valid X.509 made with node:crypto, the right SANs
// and usages, keys 0600, reused when still good, re-issued when a host is missing.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCa,
  ensureDevCerts,
  issueServerCert,
  missingHosts,
  spkiSha256,
  tlsLayout,
} from "@natschat/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-certs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("development certificates", () => {
  it("a CA is self-signed, marked CA, and signs server certificates that verify", () => {
    const ca = createCa();
    const caCert = new X509Certificate(ca.certPem);
    expect(caCert.ca).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    const server = issueServerCert(ca, ["127.0.0.1", "::1", "localhost", "nats.example.com"]);
    const cert = new X509Certificate(server.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkIP("::1")).toBeDefined();
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkHost("nats.example.com")).toBe("nats.example.com");
    expect(cert.checkHost("evil.example.com")).toBeUndefined();
    // routes and gateways dial with the same certificate: both usages
    expect(cert.keyUsage).toEqual(
      expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]),
    );
  });

  it("IPv6 addresses with an embedded IPv4 part get their 16 bytes (::ffff:a.b.c.d, NAT64)", () => {
    const ca = createCa();
    const hosts = ["::ffff:10.1.2.3", "64:ff9b::192.0.2.33", "2001:db8::1", "fe80::1:2:3:4"];
    const cert = new X509Certificate(issueServerCert(ca, hosts).certPem);
    for (const h of hosts) expect(cert.checkIP(h), h).toBeDefined();
    expect(cert.checkIP("::ffff:10.1.2.4")).toBeUndefined();
    expect(missingHosts(cert.toString(), hosts)).toEqual([]);
  });

  it("wildcard names (Kubernetes headless services) are carried as given", () => {
    const ca = createCa();
    const s = issueServerCert(ca, ["*.nats-east-headless.natschat.svc.cluster.local"]);
    expect(missingHosts(s.certPem, ["*.nats-east-headless.natschat.svc.cluster.local"])).toEqual(
      [],
    );
    expect(missingHosts(s.certPem, ["*.nats-west-headless"])).toEqual(["*.nats-west-headless"]);
  });

  it("ensureDevCerts writes the CA and a server certificate, keys 0600", async () => {
    const report = await ensureDevCerts({ dir });
    expect(report.created).toEqual(["ca", "server certificate"]);
    const paths = tlsLayout(dir);
    for (const key of [paths.caKey, paths.key]) expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.ca)).mode & 0o777).toBe(0o644);
    expect(missingHosts(await readFile(paths.cert, "utf8"), ["127.0.0.1", "localhost"])).toEqual(
      [],
    );
  });

  it("reuses what is still good, and re-issues the server certificate for a new host", async () => {
    const paths = tlsLayout(dir);
    const ca = await readFile(paths.ca, "utf8");
    const again = await ensureDevCerts({ dir });
    expect(again.created).toEqual([]);
    expect(again.kept).toEqual(["ca", "server certificate"]);
    const more = await ensureDevCerts({ dir, hosts: ["chat.example.com"] });
    expect(more.created).toEqual(["server certificate"]);
    expect(await readFile(paths.ca, "utf8")).toBe(ca); // clients keep trusting the same CA
    expect(missingHosts(await readFile(paths.cert, "utf8"), ["chat.example.com"])).toEqual([]);
    expect(spkiSha256(ca)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("rejects a host that is neither an IP address nor a DNS name", async () => {
    await expect(ensureDevCerts({ dir, hosts: ["not a host!"] })).rejects.toMatchObject({
      code: "TLS_BAD_HOST",
    });
  });

  it("names a damaged CA instead of silently replacing it", async () => {
    const other = await mkdtemp(join(tmpdir(), "natschat-certs-bad-"));
    try {
      await ensureDevCerts({ dir: other });
      await writeFile(tlsLayout(other).caKey, createCa().keyPem); // a key of another CA
      await expect(ensureDevCerts({ dir: other })).rejects.toMatchObject({
        code: "TLS_CA_CORRUPT",
      });
      const forced = await ensureDevCerts({ dir: other, force: true });
      expect(forced.created).toEqual(["ca", "server certificate"]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
