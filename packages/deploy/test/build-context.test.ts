// The image's build context, as Docker resolves the rendered Dockerfile.dockerignore (with
// @balena/dockerignore, a port of Docker's own matcher): the repository's files plus data dirs
// and a render placed where an operator puts them (`init --dir ./prod-trust` at the root, a
// default `.natschat`, one inside a package). No key, creds or JWT may enter the context; what
// the Dockerfile builds from must.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { DOCKERIGNORE, renderToDir } from "@natschat/deploy";
import { initTrust } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
// a CommonJS module whose types declare an ES default export: load it as what it is
const dockerignore = createRequire(import.meta.url)(
  "@balena/dockerignore",
) as typeof import("@balena/dockerignore").default;
const REPO = new URL("../../../", import.meta.url).pathname;

let dir: string;
/** Every file of the would-be context, relative to the repository root. */
let tree: string[];

async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-context-"));
  const data = join(dir, "data");
  await initTrust({ dir: data });
  await renderToDir({ dir: data, out: join(dir, "render") });
  const dataFiles = await walk(data);
  const renderFiles = await walk(join(dir, "render"));
  const { stdout } = await run("git", ["ls-files"], { cwd: REPO });
  tree = [
    ...stdout.split("\n").filter(Boolean),
    // where an operator's data dirs and renders land in the checkout
    ...dataFiles.map((f) => `prod-trust/${f}`),
    ...dataFiles.map((f) => `.natschat/${f}`),
    ...dataFiles.map((f) => `packages/cli/src/my-data/${f}`),
    ...renderFiles.map((f) => `natschat-k8s/${f}`),
    ...renderFiles.map((f) => `packages/deploy/src/out/${f}`),
  ];
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(ignoreText: string): string[] {
  return dockerignore().add(ignoreText.split("\n")).filter(tree);
}

describe("the image's build context", () => {
  it("the tree holds the data dirs' keys, creds and JWTs (so the check below is real)", () => {
    const secrets = tree.filter((f) => /\.(nk|creds|jwt)$/.test(f));
    expect(secrets.some((f) => f.startsWith("prod-trust/keys/"))).toBe(true);
    expect(secrets.some((f) => f.startsWith("packages/cli/src/my-data/creds/"))).toBe(true);
    expect(secrets.some((f) => f.startsWith("natschat-k8s/k8s/secrets/"))).toBe(true);
  });

  it("holds no *.nk, *.creds or *.jwt file, and nothing of a data dir's keys or TLS keys", () => {
    const leaked = context(DOCKERIGNORE).filter(
      (f) => /\.(nk|creds|jwt)$/.test(f) || /(^|\/)(k8s\/secrets|tls)\//.test(f),
    );
    expect(leaked).toEqual([]);
  });

  it("holds what the Dockerfile builds from, and no tests, docs or node_modules", () => {
    const ctx = context(DOCKERIGNORE);
    for (const f of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "bin/natschat.js",
      "packages/cli/src/mod.ts",
      "packages/e2e/package.json",
      "packages/web/index.html",
      "packages/web/vite.config.ts",
      "packages/web/public/favicon.svg",
    ])
      expect(ctx, f).toContain(f);
    expect(ctx.filter((f) => /(^|\/)(test|node_modules|docs)\//.test(f))).toEqual([]);
  });

  it("a plain deny list would have let the root data dir in (the old ignore file)", () => {
    const old = ".git\n**/node_modules\n.natschat\n.cache\n**/dist\n*.log\n**/k8s/secrets\n";
    expect(context(old)).toContain("prod-trust/keys/operator.nk");
  });
});
