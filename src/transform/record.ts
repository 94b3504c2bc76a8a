/**
 * Counts what the pure transforms report: every warning in transformWarnings{stream,kind}, and
 * unknown dictionary values in unknownValues{dictionary,value} so an operator sees which word to
 * add. The transform context calls it (its `onWarnings`); a dry run passes its own hook instead.
 */
import { transformWarnings, unknownValues } from '../metrics.js';
import type { Warning } from './types.js';

/** Longest dictionary value used as a metric label (vendor words are short; keep labels bounded). */
const MAX_LABEL_LENGTH = 64;

export function recordWarnings(stream: string, warnings: readonly Warning[]): void {
  if (warnings.length === 0) return;
  for (const w of warnings) {
    transformWarnings.inc({ stream, kind: w.kind });
    if (w.kind === 'unknown-car-type' || w.kind === 'unknown-pay-type') {
      unknownValues.inc({
        dictionary: w.kind === 'unknown-car-type' ? 'carType' : 'payType',
        value: w.value.slice(0, MAX_LABEL_LENGTH),
      });
    }
  }
}
