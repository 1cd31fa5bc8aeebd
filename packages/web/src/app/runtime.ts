// Loads the runtime config from the server that serves the app (GET /config.json).
import { parseRuntimeConfig, type WebRuntimeConfig } from "../config.ts";

/** Fetches and checks /config.json; throws an Error whose message the page can show as is. */
export async function fetchRuntimeConfig(): Promise<WebRuntimeConfig> {
  let res: Response;
  try {
    res = await fetch("/config.json", { cache: "no-store" });
  } catch (err) {
    throw new Error(`cannot reach the natschat web server: ${(err as Error).message}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error(`the web server sent no JSON for /config.json (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const error = (body as { error?: unknown }).error;
    throw new Error(
      typeof error === "string" ? error : `GET /config.json failed: HTTP ${res.status}`,
    );
  }
  return parseRuntimeConfig(body);
}
