// A round avatar with the sender's initials, coloured by its key (stable across sessions).
import { hueOf, initials } from "./grouping.ts";

export function Avatar(props: { userKey: string; display: string; size?: "sm" | "md" }) {
  return (
    <span
      className={`avatar avatar-${props.size ?? "md"} hue-${Math.floor(hueOf(props.userKey) / 30)}`}
      aria-hidden="true"
    >
      {initials(props.display)}
    </span>
  );
}
