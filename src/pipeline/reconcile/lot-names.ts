/** Close matches of a lot code an operator typed: what they may have meant. Pure. */

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[t.length]!;
}

/**
 * Codes close to `typed`: those it is a prefix of (or that are a prefix of it), then those within
 * a third of its length in edits (at least 1, at most 3), nearest first; at most `limit`.
 */
export function closeMatches(typed: string, codes: readonly string[], limit = 5): string[] {
  const t = typed.trim().toLowerCase();
  if (!t) return [];
  const budget = Math.min(3, Math.max(1, Math.floor(t.length / 3)));
  const scored: Array<{ code: string; score: number }> = [];
  for (const code of codes) {
    const c = code.toLowerCase();
    if (c === t) return [code];
    if (c.startsWith(t) || t.startsWith(c)) {
      scored.push({ code, score: -1 / (1 + Math.abs(c.length - t.length)) });
      continue;
    }
    const d = editDistance(t, c);
    if (d <= budget) scored.push({ code, score: d });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.code.localeCompare(b.code))
    .slice(0, limit)
    .map((s) => s.code);
}

/** A lot code that the vendor's lot table does not have. */
export class UnknownLotError extends Error {
  override readonly name = 'UnknownLotError';
  constructor(
    readonly code: string,
    readonly matches: string[],
  ) {
    super(
      `no lot "${code}" in the vendor's lot table` +
        (matches.length
          ? `; did you mean ${matches.map((m) => `"${m}"`).join(', ')}?`
          : '; `status` lists the lots') +
        ' (codes are matched exactly)',
    );
  }
}
