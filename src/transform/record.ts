/**
 * Counts what the pure transforms report: every warning in transformWarnings{stream,kind}, and
 * unknown dictionary values in unknownValues{dictionary,value} so an operator sees which word to
 * add. The transform context calls it (its `onWarnings`); a dry run passes its own hook instead.
 */
import { transformWarnings, unknownValues } from '../metrics.js';
import type { Warning } from './types.js';

/** Longest dictionary value used as a metric label (vendor words are short; keep labels bounded). */
const MAX_LABEL_LENGTH = 64;
/**
 * Distinct values per dictionary kept as labels; later ones are counted as `(other)`. A vendor
 * that writes free text (a plate, a note) into a dictionary column would otherwise add a series
 * per row, without end, to every scrape.
 */
export const MAX_LABEL_VALUES = 50;
export const OTHER_LABEL = '(other)';
const labelled = new Map<string, Set<string>>();

function boundedLabel(dictionary: string, value: string): string {
  const cut = value.slice(0, MAX_LABEL_LENGTH);
  const seen = labelled.get(dictionary) ?? new Set<string>();
  labelled.set(dictionary, seen);
  if (seen.has(cut)) return cut;
  if (seen.size >= MAX_LABEL_VALUES) return OTHER_LABEL;
  seen.add(cut);
  return cut;
}

export function recordWarnings(stream: string, warnings: readonly Warning[]): void {
  if (warnings.length === 0) return;
  for (const w of warnings) {
    transformWarnings.inc({ stream, kind: w.kind });
    if (w.kind === 'unknown-car-type' || w.kind === 'unknown-pay-type') {
      const dictionary = w.kind === 'unknown-car-type' ? 'carType' : 'payType';
      unknownValues.inc({ dictionary, value: boundedLabel(dictionary, w.value) });
    }
  }
}
