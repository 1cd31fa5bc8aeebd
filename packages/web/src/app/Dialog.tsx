// A modal built on the native <dialog> (focus trap, Escape to close, labelled by its title).
import { type ReactNode, useEffect, useId, useRef } from "react";

export function Dialog(props: {
  title: string;
  className?: string;
  children?: ReactNode;
  /** Escape, or the caller's own buttons. */
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${props.className ? ` ${props.className}` : ""}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}
