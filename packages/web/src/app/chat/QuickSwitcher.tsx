// The quick switcher (Ctrl+K): type part of a channel or a person's name, Enter opens it. People
// are everyone this session has seen (online or not), so a DM can go to someone offline: it is
// stored and reaches them from history when they come back.
import type { ChatSnapshot } from "@natschat/client";
import { useId, useState } from "react";
import { Dialog } from "../Dialog.tsx";

interface Item {
  id: string;
  label: string;
  detail: string;
}

/** Channels, DMs and known people, each once, in that order. */
export function switchItems(snap: ChatSnapshot): Item[] {
  const items: Item[] = snap.channels.map((c) => ({
    id: c.id,
    label: `#${c.title}`,
    detail: "channel",
  }));
  const seen = new Set(items.map((i) => i.id));
  const people = [...snap.users]
    .filter((u) => !u.me && u.name !== undefined)
    .sort((a, b) => Number(b.online) - Number(a.online) || a.display.localeCompare(b.display));
  for (const u of people) {
    const id = `@${u.key}`;
    if (seen.has(id)) continue;
    seen.add(id);
    items.push({ id, label: u.display, detail: u.online ? "online" : "offline" });
  }
  return items;
}

export function QuickSwitcher(props: {
  snap: ChatSnapshot;
  onSelect: (id: string) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const listId = useId();
  const q = query.trim().replace(/^[#@]/, "").toLowerCase();
  const items = switchItems(props.snap).filter((i) =>
    i.label.replace(/^#/, "").toLowerCase().includes(q),
  );
  const current = Math.min(active, Math.max(items.length - 1, 0));
  const pick = (item: Item | undefined) => {
    if (!item) return;
    props.onSelect(item.id);
    props.onClose();
  };
  const optionId = (i: number) => `${listId}-${i}`;
  return (
    <Dialog title="Switch to" className="switcher" onClose={props.onClose}>
      <input
        role="combobox"
        aria-expanded="true"
        aria-controls={listId}
        aria-activedescendant={items.length > 0 ? optionId(current) : undefined}
        aria-label="Channel or person"
        placeholder="Channel or person"
        autoFocus
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            const step = e.key === "ArrowDown" ? 1 : -1;
            setActive((current + step + items.length) % Math.max(items.length, 1));
          } else if (e.key === "Enter") {
            e.preventDefault();
            pick(items[current]);
          }
        }}
      />
      <ul id={listId} aria-label="Matches" className="switcher-list">
        {items.map((item, i) => (
          <li key={item.id}>
            <button
              type="button"
              id={optionId(i)}
              tabIndex={-1}
              aria-current={i === current ? "true" : undefined}
              className={i === current ? "active" : ""}
              onClick={() => pick(item)}
            >
              <span>{item.label}</span>
              <span className="muted">{item.detail}</span>
            </button>
          </li>
        ))}
        {items.length === 0 ? <li className="muted">Nothing matches.</li> : null}
      </ul>
    </Dialog>
  );
}
