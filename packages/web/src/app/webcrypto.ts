// The browser must make and use Ed25519 keys itself (the private key never leaves it). WebCrypto
// exists only in secure contexts (https:// or localhost), and Ed25519 only in recent browsers.

/** Undefined when this browser can make Ed25519 keys; otherwise what is missing and what to do. */
export async function webCryptoProblem(): Promise<string | undefined> {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    return (
      "This page is not a secure context, so the browser hides WebCrypto. Open it over https:// " +
      "or from localhost / 127.0.0.1."
    );
  }
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return undefined;
  } catch {
    return (
      "This browser cannot make Ed25519 keys with WebCrypto. Use a current Chrome, Edge, " +
      "Firefox or Safari."
    );
  }
}
