// Measures the production bundle from Vite's manifest: what the first page load fetches
// (index.html, the entry chunk with its static imports, and its CSS), what each lazily loaded
// page adds, and everything together. Sizes are gzip -9, as the server sends them.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The budget of the initial load, bytes of gzip. */
export const INITIAL_BUDGET_BYTES = 150 * 1024;

/** Readable names of the lazily loaded chunks. */
const PAGE_NAMES: Record<string, string> = {
  ChatPage: "chat page",
  AdminPage: "admin page",
  registration: "registering (Join)",
};

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

export interface BundleReport {
  /** index.html + entry chunk + its static imports + their CSS. */
  initial: { files: string[]; gzip: number };
  /** For each lazily loaded page: what it adds on top of the initial load. */
  pages: { name: string; files: string[]; gzip: number }[];
  /** Every JS and CSS file plus index.html. */
  all: { files: string[]; gzip: number };
}

async function gz(distDir: string, file: string, cache: Map<string, number>): Promise<number> {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  const size = gzipSync(await readFile(join(distDir, file)), { level: 9 }).length;
  cache.set(file, size);
  return size;
}

/** Reads dist/.vite/manifest.json and measures the load of each page. */
export async function measureBundle(distDir: string): Promise<BundleReport> {
  const manifestPath = join(distDir, ".vite", "manifest.json");
  await stat(manifestPath).catch(() => {
    throw new Error(`${manifestPath} is missing; build the app first (npm run web:build)`);
  });
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<
    string,
    ManifestChunk
  >;
  const entryKey = Object.keys(manifest).find((k) => manifest[k]?.isEntry);
  if (!entryKey) throw new Error("the manifest has no entry chunk");
  const closure = (key: string, into: Set<string>) => {
    const chunk = manifest[key];
    if (!chunk || into.has(chunk.file)) return;
    into.add(chunk.file);
    for (const css of chunk.css ?? []) into.add(css);
    for (const dep of chunk.imports ?? []) closure(dep, into);
  };
  const cache = new Map<string, number>();
  const sum = async (files: Iterable<string>) => {
    let total = 0;
    for (const f of files) total += await gz(distDir, f, cache);
    return total;
  };
  const initial = new Set<string>(["index.html"]);
  closure(entryKey, initial);
  const pages: BundleReport["pages"] = [];
  for (const key of manifest[entryKey]?.dynamicImports ?? []) {
    const page = new Set<string>();
    closure(key, page);
    const added = [...page].filter((f) => !initial.has(f));
    const base =
      key
        .split("/")
        .pop()
        ?.replace(/\.[jt]sx?$/, "") ?? key;
    pages.push({
      name: PAGE_NAMES[base] ?? base,
      files: added,
      gzip: await sum(added),
    });
  }
  const all = new Set<string>(["index.html"]);
  for (const chunk of Object.values(manifest)) {
    all.add(chunk.file);
    for (const css of chunk.css ?? []) all.add(css);
  }
  return {
    initial: { files: [...initial], gzip: await sum(initial) },
    pages,
    all: { files: [...all], gzip: await sum(all) },
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;

/** The report as text lines. */
export function formatBundleReport(r: BundleReport): string[] {
  return [
    `initial load (first page):  ${kb(r.initial.gzip).padStart(9)} gzip  (budget ${kb(INITIAL_BUDGET_BYTES)})`,
    ...r.pages.map(
      (p) =>
        `  + ${p.name.padEnd(24)}${kb(p.gzip).padStart(9)} gzip  → ${kb(r.initial.gzip + p.gzip)} in all`,
    ),
    `everything:                 ${kb(r.all.gzip).padStart(9)} gzip  (${r.all.files.length} files)`,
  ];
}
