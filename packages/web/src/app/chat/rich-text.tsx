// A message's text as React elements: links (http and https only) and a small markdown subset,
// **bold**, *italic* or _italic_, `code` and ``` code blocks ```. Hand-written on purpose: the
// subset is a few patterns, and the output is React elements built from plain strings (React
// escapes every one), never an HTML string, so a message cannot inject markup or a
// javascript: link. A markdown library would parse (and then have to sanitize) full HTML and
// weigh more than this whole file. Mentions (`<@KEY>` in the stored text) come split out by the
// client core (MessageView.segments) and show as `@name` chips; a message with a mention is one
// paragraph of inline markdown around its chips.
import type { ReactNode } from "react";

/** A stretch of text, or a mention of a user key with the name to show. */
export type Segment = { text: string } | { mention: string; display: string };

/** One part of a message: prose, or a fenced code block. */
type Block = { kind: "prose"; text: string } | { kind: "code"; text: string };

const FENCE = /```[^\n`]*\n?([\s\S]*?)```/g;

/** Splits a message into prose and fenced code blocks. */
export function blocksOf(text: string): Block[] {
  const blocks: Block[] = [];
  let last = 0;
  for (const m of text.matchAll(FENCE)) {
    const start = m.index ?? 0;
    if (start > last) blocks.push({ kind: "prose", text: text.slice(last, start) });
    blocks.push({ kind: "code", text: (m[1] ?? "").replace(/\n$/, "") });
    last = start + m[0].length;
  }
  if (last < text.length) blocks.push({ kind: "prose", text: text.slice(last) });
  return blocks;
}

// One alternative per inline form, tried left to right: code, link, bold, italic (* or _).
const INLINE =
  /(`[^`\n]+`)|(https?:\/\/[^\s<>"'`]+)|(\*\*[^*\n]+?\*\*)|(\*[^*\s](?:[^*\n]*?[^*\s])?\*)|(_[^_\s](?:[^_\n]*?[^_\s])?_)/g;
/** Punctuation that ends a sentence rather than a URL. */
const URL_TAIL = /[.,;:!?)\]'"]+$/;

/** Inline markdown and links of one stretch of prose, as React nodes. */
export function inline(text: string, key = "i"): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    const start = m.index ?? 0;
    const token = m[0];
    // _italic_ only between words' edges: snake_case_names stay as they are
    if (m[5] !== undefined && start > 0 && /\w/.test(text[start - 1] ?? "")) continue;
    if (m[5] !== undefined && /\w/.test(text[start + token.length] ?? "")) continue;
    if (start > last) out.push(text.slice(last, start));
    const k = `${key}.${n++}`;
    if (m[1] !== undefined) out.push(<code key={k}>{token.slice(1, -1)}</code>);
    else if (m[2] !== undefined) {
      const tail = URL_TAIL.exec(token)?.[0] ?? "";
      const href = token.slice(0, token.length - tail.length);
      out.push(
        <a key={k} href={href} target="_blank" rel="noopener noreferrer">
          {href}
        </a>,
      );
      if (tail) out.push(tail);
    } else if (m[3] !== undefined)
      out.push(<strong key={k}>{inline(token.slice(2, -2), k)}</strong>);
    else out.push(<em key={k}>{inline(token.slice(1, -1), k)}</em>);
    last = start + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** A mention chip: `@name`, marked when it names the reader. */
function Mention(props: { userKey: string; display: string; me: boolean }) {
  return (
    <span className={`mention${props.me ? " self" : ""}`} title={props.userKey}>
      @{props.display}
    </span>
  );
}

/**
 * A message's text: a paragraph, or paragraphs and code blocks when it has fenced code. With
 * `segments` that hold a mention, one paragraph with the mentions as chips.
 */
export function MessageText(props: {
  text: string;
  segments?: readonly Segment[];
  /** The reader's key: mentions of it are marked. */
  me?: string;
  children?: ReactNode;
}) {
  const segments = props.segments ?? [];
  if (segments.some((seg) => "mention" in seg)) {
    return (
      <p className="text">
        {segments.map((seg, i) =>
          "mention" in seg ? (
            <Mention
              // biome-ignore lint/suspicious/noArrayIndexKey: the segments of one message never move
              key={i}
              userKey={seg.mention}
              display={seg.display}
              me={seg.mention === props.me}
            />
          ) : (
            inline(seg.text, `s${i}`)
          ),
        )}
        {props.children}
      </p>
    );
  }
  const blocks = blocksOf(props.text);
  if (blocks.every((b) => b.kind === "prose")) {
    return (
      <p className="text">
        {inline(props.text)}
        {props.children}
      </p>
    );
  }
  return (
    <div className="text">
      {blocks.map((b, i) =>
        b.kind === "code" ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the blocks of one message never move
          <pre key={i}>
            <code>{b.text}</code>
          </pre>
        ) : b.text.trim() === "" ? null : (
          // biome-ignore lint/suspicious/noArrayIndexKey: the blocks of one message never move
          <p key={i}>{inline(b.text.trim(), `b${i}`)}</p>
        ),
      )}
      {props.children}
    </div>
  );
}
