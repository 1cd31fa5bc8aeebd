// "Did you mean": the word a typo was probably meant to be. Used for slash commands (commands.ts)
// and the CLI's verbs. A typo here is one edit: a letter added, dropped or changed, or two
// neighbours swapped ("stauts" for "status"); command words are short, so more would guess wrong.

/** The first of `candidates` that `word` is one typo away from, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  return candidates.find((c) => oneTypoApart(w, c));
}

/** Whether `a` is one insertion, deletion, substitution or neighbour swap away from `b`. */
export function oneTypoApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    const [i = 0, j = 0] = diff;
    return diff.length === 2 && j === i + 1 && a[i] === b[j] && a[j] === b[i];
  }
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  for (let i = 0; i < long.length; i++) {
    if (long.slice(0, i) + long.slice(i + 1) === short) return true;
  }
  return false;
}
