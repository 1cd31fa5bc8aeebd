// Pure parts of the web app: the runtime-config parser, message grouping, the composer's mention
// and typing text, the admin registry parser and the bundle-size report; and the real build's
// first page load.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageView } from "@natschat/client";
import { parseRuntimeConfig, RuntimeConfigError } from "@natschat/web";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import {
  applyMention,
  editableText,
  excerpt,
  mentionQuery,
} from "../src/app/chat/composer-text.ts";
import { GROUP_GAP_MS, groupMessages, initials } from "../src/app/chat/grouping.ts";
import { MessageText } from "../src/app/chat/rich-text.tsx";
import { typingLine } from "../src/app/chat/typing-line.ts";
import { checkTypedName } from "../src/app/welcome/name-hint.ts";
import { ensureWebBuild } from "../src/server/build.ts";
import { INITIAL_BUDGET_BYTES, measureBundle } from "../src/server/bundle-size.ts";

const ACCOUNT = `A${"B".repeat(55)}`;
const GOOD = {
  websocketUrls: ["ws://127.0.0.1:9222"],
  bootstrapCreds: "-----BEGIN NATS USER JWT-----\n…",
  chatAccount: ACCOUNT,
  chatSigningKeys: [ACCOUNT],
  channels: ["KUBECON"],
};

describe("parseRuntimeConfig", () => {
  it("accepts a good config and names the bad field otherwise", () => {
    expect(parseRuntimeConfig(GOOD)).toEqual(GOOD);
    const bad: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[], /not a JSON object/],
      [{ ...GOOD, websocketUrls: [] }, /"websocketUrls"/],
      [{ ...GOOD, websocketUrls: ["http://x"] }, /must start with ws:\/\//],
      [{ ...GOOD, bootstrapCreds: "nope" }, /"bootstrapCreds"/],
      [{ ...GOOD, chatAccount: "UABC" }, /"chatAccount"/],
      [{ ...GOOD, chatSigningKeys: [1] }, /"chatSigningKeys"/],
      [{ ...GOOD, channels: "KUBECON" }, /"channels"/],
    ];
    for (const [input, message] of bad) {
      expect(() => parseRuntimeConfig(input)).toThrow(RuntimeConfigError);
      expect(() => parseRuntimeConfig(input)).toThrow(message);
    }
  });
});

function msg(id: string, from: string, time: number, display = from): MessageView {
  return {
    id,
    from,
    name: display,
    display,
    text: id,
    segments: [{ text: id }],
    time,
    mine: false,
    claimedOther: false,
    edited: false,
    reactions: [],
    replies: 0,
    mentionsMe: false,
  };
}

describe("MessageText: links and a safe markdown subset", () => {
  const html = (text: string) => renderToStaticMarkup(createElement(MessageText, { text }));

  it("renders bold, italic, code, code blocks and http(s) links", () => {
    expect(html("**b** *i* _j_ `c.d.>` see https://nats.io/x.")).toBe(
      '<p class="text"><strong>b</strong> <em>i</em> <em>j</em> <code>c.d.&gt;</code> see <a href="https://nats.io/x" target="_blank" rel="noopener noreferrer">https://nats.io/x</a>.</p>',
    );
    expect(html("a\n```\nnats sub '>'\n```")).toBe(
      '<div class="text"><p>a</p><pre><code>nats sub &#x27;&gt;&#x27;</code></pre></div>',
    );
    // snake_case stays as it is
    expect(html("my_var_name")).toBe('<p class="text">my_var_name</p>');
  });

  it("never lets markup or a script link through", () => {
    const hostile = [
      "**<img src=x onerror=alert(1)>**",
      "[x](javascript:alert(1))",
      '<a href="javascript:alert(2)">y</a>',
      "`<script>alert(3)</script>`",
      "javascript:alert(4) https://ok.example/<script>",
      "```\n</code></pre><img src=x>\n```",
    ];
    for (const text of hostile) {
      const out = html(text);
      expect(out, text).not.toMatch(/<(img|script|a href="javascript)/i);
      expect(out, text).not.toMatch(/href="(?!https?:)/);
    }
  });
});

describe("mentions and typing in the composer", () => {
  const KEY = `U${"A".repeat(55)}`;
  it("finds the @prefix at the caret, only at a word's start", () => {
    expect(mentionQuery("hi @al", 6)).toEqual({ start: 3, prefix: "al" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, prefix: "" });
    expect(mentionQuery("mail@al", 7)).toBeUndefined();
    expect(mentionQuery("hi @al there", 12)).toBeUndefined();
    expect(mentionQuery("hi @al there", 6)).toEqual({ start: 3, prefix: "al" });
  });

  it("puts the picked name in place of the prefix, with one space after it", () => {
    const q = { start: 3, prefix: "al" };
    expect(applyMention("hi @al", q, 6, "alice")).toEqual({ text: "hi @alice ", caret: 10 });
    expect(applyMention("hi @al there", q, 6, "alice")).toEqual({
      text: "hi @alice there",
      caret: 10,
    });
  });

  it("edits mentions as @name, and keeps a key whose name is unknown as it is stored", () => {
    const segments = [
      { text: "ask " },
      { mention: KEY, display: "alice" },
      { text: " or " },
      { mention: KEY, display: "~UAAAA…AAAA" },
    ];
    expect(editableText({ segments })).toBe(`ask @alice or <@${KEY}>`);
    expect(excerpt({ segments: [{ text: `${"x".repeat(100)}\n\ny` }] }, 10)).toBe("xxxxxxxxx…");
  });

  it("says who is typing", () => {
    expect(typingLine([])).toBe("");
    expect(typingLine(["alice"])).toBe("alice is typing…");
    expect(typingLine(["alice", "bob"])).toBe("alice and bob are typing…");
    expect(typingLine(["a", "b", "c"])).toBe("a, b and c are typing…");
    expect(typingLine(["a", "b", "c", "d", "e"])).toBe("a, b and 3 others are typing…");
  });

  it("shows mentions as chips, marks the reader's, and keeps a hostile name text", () => {
    const html = renderToStaticMarkup(
      createElement(MessageText, {
        text: "",
        me: KEY,
        segments: [
          { text: "**hi** " },
          { mention: KEY, display: "<img src=x>" },
          { text: " and " },
          { mention: `U${"B".repeat(55)}`, display: "bob" },
        ],
      }),
    );
    expect(html).toContain("<strong>hi</strong>");
    expect(html).toContain(`<span class="mention self" title="${KEY}">@&lt;img src=x&gt;</span>`);
    expect(html).toContain('<span class="mention" title="UBBB');
    expect(html).not.toContain("<img");
  });
});

describe("checkTypedName: what Welcome says as a name is typed", () => {
  it("explains a refusal in plain words, and passes a good name through normalized", () => {
    expect(checkTypedName("")).toEqual({});
    expect(checkTypedName("Ada")).toEqual({ name: "ada" });
    expect(checkTypedName("john smith").problem).toBe(
      'Names can\'t have spaces. How about "john-smith"?',
    );
    expect(checkTypedName("-bob").problem).toBe("A name must start with a letter or a digit.");
    expect(checkTypedName("al.ice").problem).toBe(
      "Names can't have \".\". Letters, digits, '-' and '_' work.",
    );
    expect(checkTypedName("zoë").problem).toMatch(/plain letters a to z/);
    expect(checkTypedName("a".repeat(17)).problem).toMatch(
      /17 characters; a name can have at most 16/,
    );
  });
});

describe("groupMessages", () => {
  const t0 = new Date(2025, 10, 3, 12, 0, 0).getTime();
  it("groups consecutive messages of a sender within the gap, and marks new days", () => {
    const groups = groupMessages(
      [
        msg("a1", "UA", t0),
        msg("a2", "UA", t0 + 60_000),
        msg("b1", "UB", t0 + 120_000),
        msg("b2", "UB", t0 + 120_000 + GROUP_GAP_MS + 1),
        msg("b3", "UB", t0 + 86_400_000),
      ],
      t0 + 86_400_000,
    );
    expect(groups.map((g) => g.messages.map((m) => m.id))).toEqual([
      ["a1", "a2"],
      ["b1"],
      ["b2"],
      ["b3"],
    ]);
    expect(groups[0]?.day).toBeDefined();
    expect(groups[1]?.day).toBeUndefined();
    expect(groups[3]?.day).toBe("Today");
  });

  it("starts a new group when a sender's shown name changes (its identity became known)", () => {
    const groups = groupMessages([msg("x1", "UA", t0, "~UAAAA…ZZZZ"), msg("x2", "UA", t0, "ada")]);
    expect(groups).toHaveLength(2);
  });

  it("starts a group at the 'new messages' line", () => {
    const groups = groupMessages(
      [msg("a1", "UA", t0), msg("a2", "UA", t0 + 1000), msg("a3", "UA", t0 + 2000)],
      t0,
      "a2",
    );
    expect(groups.map((g) => g.messages.map((m) => m.id))).toEqual([["a1"], ["a2", "a3"]]);
  });

  it("makes avatar initials", () => {
    expect(initials("ada")).toBe("AD");
    expect(initials("ada-lovelace")).toBe("AL");
    expect(initials("~UABCD…WXYZ")).toBe("UA");
    expect(initials("")).toBe("?");
  });
});

describe("measureBundle", () => {
  it("counts what the first page loads apart from what lazy pages add", async () => {
    const dist = await mkdtemp(join(tmpdir(), "natschat-web-size-"));
    try {
      await mkdir(join(dist, ".vite"), { recursive: true });
      await mkdir(join(dist, "assets"));
      await writeFile(join(dist, "index.html"), "<html></html>");
      for (const f of ["entry.js", "shared.js", "chat.js", "app.css"]) {
        await writeFile(join(dist, "assets", f), f.repeat(100));
      }
      await writeFile(
        join(dist, ".vite", "manifest.json"),
        JSON.stringify({
          "index.html": {
            file: "assets/entry.js",
            isEntry: true,
            css: ["assets/app.css"],
            dynamicImports: ["src/app/chat/ChatPage.tsx"],
          },
          _shared: { file: "assets/shared.js" },
          "src/app/chat/ChatPage.tsx": {
            file: "assets/chat.js",
            isDynamicEntry: true,
            imports: ["index.html", "_shared"],
          },
        }),
      );
      const r = await measureBundle(dist);
      expect(r.initial.files.sort()).toEqual(["assets/app.css", "assets/entry.js", "index.html"]);
      expect(r.pages).toHaveLength(1);
      expect(r.pages[0]?.name).toBe("chat page");
      expect(r.pages[0]?.files.sort()).toEqual(["assets/chat.js", "assets/shared.js"]);
      expect(r.all.files).toHaveLength(5);
      expect(r.all.gzip).toBe(r.initial.gzip + (r.pages[0]?.gzip ?? 0));
    } finally {
      await rm(dist, { recursive: true, force: true });
    }
  });

  it("the real build: the first page load does not carry the NATS client; joining loads it", async () => {
    const r = await measureBundle(await ensureWebBuild());
    const join_ = r.pages.find((p) => p.name === "registering (Join)");
    expect(join_, "registration is its own lazily loaded chunk").toBeDefined();
    // React and the pages are ~82 kB; the NATS client (~60 kB) comes with Join. Were it pulled
    // into the first load (a static import of @natschat/client did that once), this fails.
    expect(r.initial.gzip, `first page: ${r.initial.files.join(", ")}`).toBeLessThan(100 * 1024);
    expect(join_?.gzip ?? 0).toBeGreaterThan(40 * 1024);
    expect(r.initial.gzip).toBeLessThanOrEqual(INITIAL_BUDGET_BYTES);
  });
});
