/**
 * Counts what the pure transforms report: every warning in transformWarnings{source,stream,kind},
 * and unknown dictionary values in unknownValues{source,dictionary,value} so an operator sees which
 * word to add to which source's config. The transform context calls it (its `onWarnings`, with its
 * config's source); a dry run passes its own hook instead.
 */
import { transformWarnings, unknownValues } from '../metrics.js';
import type { Warning } from './types.js';

/** Longest dictionary value used as a metric label (vendor words are short; keep labels bounded). */
const MAX_LABEL_LENGTH = 64;
/**
 * Distinct values per source and dictionary kept as labels; later ones are counted as `(other)`.
 * A vendor that writes free text (a plate, a note) into a dictionary column would otherwise add a
 * series per row, without end, to every scrape. Per source: one source's free text does not use up
 * the labels another's real unknown words need.
 */
export const MAX_LABEL_VALUES = 50;
export const OTHER_LABEL = '(other)';
const labelled = new Map<string, Set<string>>();

function boundedLabel(source: string, dictionary: string, value: string): string {
  const cut = value.slice(0, MAX_LABEL_LENGTH);
  const key = `${source}:${dictionary}`;
  const seen = labelled.get(key) ?? new Set<string>();
  labelled.set(key, seen);
  if (seen.has(cut)) return cut;
  if (seen.size >= MAX_LABEL_VALUES) return OTHER_LABEL;
  seen.add(cut);
  return cut;
}

/** `source`: whose rows these are (config.source.name), the metrics' `source` label. */
export function recordWarnings(source: string, stream: string, warnings: readonly Warning[]): void {
  if (warnings.length === 0) return;
  for (const w of warnings) {
    transformWarnings.inc({ source, stream, kind: w.kind });
    if (w.kind === 'unknown-car-type' || w.kind === 'unknown-pay-type') {
      const dictionary = w.kind === 'unknown-car-type' ? 'carType' : 'payType';
      unknownValues.inc({ source, dictionary, value: boundedLabel(source, dictionary, w.value) });
    }
  }
}
