// Small inline SVG icons (no icon font: every glyph renders on every system). Decorative: the
// buttons that hold them carry the aria-label.
const PATHS = {
  send: "M3.4 20.4 21 12 3.4 3.6 3.4 10.2 15 12 3.4 13.8z",
  logout:
    "M10 4H5a1 1 0 0 0-1 1v14a1 1 0 0 0 1 1h5v-2H6V6h4zm5.6 3.6L14.2 9l2 2H9v2h7.2l-2 2 1.4 1.4L20 12z",
  download: "M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16l-5.7-5.7 1.4-1.4 3.3 3.3zM5 18h14v2H5z",
  menu: "M4 6h16v2H4zm0 5h16v2H4zm0 5h16v2H4z",
  logo: "M5 4h14a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-7l-5 4v-4H5a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3zm2 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z",
  key: "M14 3a7 7 0 0 0-6.7 9.1L2 17.4V22h4.6l.9-.9V19h2.1l.9-.9V16h2.1l1.3-1.3A7 7 0 1 0 14 3zm2.5 3a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5z",
  warn: "M12 2 1 21h22zm-1 7h2v6h-2zm0 8h2v2h-2z",
} as const;

export type IconName = keyof typeof PATHS;

/** An icon by name, or by its path (`d`: icons of a lazily loaded page stay in its chunk). */
export function Icon(
  props: ({ name: IconName } | { d: string }) & { size?: number; className?: string },
) {
  const size = props.size ?? 18;
  return (
    <svg
      className={`icon${props.className ? ` ${props.className}` : ""}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="currentColor"
      aria-hidden="true"
      focusable="false"
    >
      <path d={"d" in props ? props.d : PATHS[props.name]} />
    </svg>
  );
}
