// The NATS servers' certificates through cert-manager, for production: a Certificate per release
// (its Secret is what the Helm values mount, nats-<region>-tls, with the issuing CA's ca.crt),
// issued by an Issuer or ClusterIssuer the operator names, or by a CA Issuer bootstrapped here
// (a self-signed root kept in its own Secret, which no pod mounts). The development CA in the data
// dir stays for local runs.
import { isIP } from "node:net";
import { certificateHosts, type DeployOptions, names } from "./options.ts";

/** The issuer the certificates come from: the operator's, or the bootstrapped CA Issuer. */
export function issuerRef(o: DeployOptions): { kind: "Issuer" | "ClusterIssuer"; name: string } {
  return o.certIssuer ?? { kind: "Issuer", name: "natschat-ca" };
}

const labels = { "app.kubernetes.io/part-of": "natschat" };

/** Issuers (when none is given) and one Certificate per release. */
export function certManagerResources(o: DeployOptions): Record<string, unknown>[] {
  const n = names(o);
  const bootstrap = o.certIssuer
    ? []
    : [
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Issuer",
          metadata: { name: "natschat-selfsigned", namespace: o.namespace, labels },
          spec: { selfSigned: {} },
        },
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          metadata: { name: "natschat-ca", namespace: o.namespace, labels },
          spec: {
            isCA: true,
            commonName: `natschat CA (${o.namespace})`,
            secretName: "natschat-ca-root",
            duration: "87600h",
            privateKey: { algorithm: "ECDSA", size: 256 },
            issuerRef: { kind: "Issuer", name: "natschat-selfsigned" },
          },
        },
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Issuer",
          metadata: { name: "natschat-ca", namespace: o.namespace, labels },
          spec: { ca: { secretName: "natschat-ca-root" } },
        },
      ];
  const certificates = [...o.regions, o.edge].map((r) => {
    const hosts = certificateHosts(o, r);
    return {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: n.release(r), namespace: o.namespace, labels },
      spec: {
        secretName: n.tlsSecret(r),
        commonName: n.serviceFqdn(r),
        dnsNames: hosts.filter((h) => !isIP(h)),
        ipAddresses: hosts.filter((h) => isIP(h)),
        duration: "2160h",
        renewBefore: "360h",
        // routes, gateways and leafnodes dial out with the same certificate
        usages: ["server auth", "client auth", "digital signature", "key encipherment"],
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        issuerRef: { ...issuerRef(o), group: "cert-manager.io" },
      },
    };
  });
  return [...bootstrap, ...certificates];
}
