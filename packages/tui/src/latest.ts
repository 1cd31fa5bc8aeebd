// State that a key handler reads as it is now: keys can arrive faster than React re-renders
// (pastes, scripted input), so the handler reads a ref that every set updates at once, and the
// state only re-renders.
import { type MutableRefObject, useCallback, useRef, useState } from "react";

/** [value for rendering, ref for handlers, setter of both]. */
export function useLatest<T>(initial: T): [T, MutableRefObject<T>, (v: T) => void] {
  const [value, setValue] = useState(initial);
  const ref = useRef(initial);
  const set = useCallback((v: T) => {
    ref.current = v;
    setValue(v);
  }, []);
  return [value, ref, set];
}
