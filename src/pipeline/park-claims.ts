/**
 * A park code belongs to one source. ISP knows a lot by its code alone, so two vendor systems that
 * both send lot P001 would overwrite each other's lot, counts and events there: such a fleet is
 * refused, naming the code and both sources.
 *
 * A source's claims are the lots its vendor table lists (deleted ones aside) and the lots ISP has
 * accepted from it (its lot changes), so a source whose database is down still claims what it
 * registered.
 */
import { isReason, isTruthyFlag, requiredText } from '../transform/fields.js';
import { readParks } from '../vendor-db/lots.js';
import type { Runtime } from './runtime.js';

export interface SourceClaims {
  source: string;
  codes: Iterable<string>;
}

export interface ClaimConflict {
  code: string;
  sources: string[];
}

/** Codes claimed by more than one source, each with every source that claims it (pure). */
export function claimConflicts(claims: readonly SourceClaims[]): ClaimConflict[] {
  const owners = new Map<string, string[]>();
  for (const { source, codes } of claims) {
    for (const code of new Set(codes)) {
      const list = owners.get(code);
      if (list) list.push(source);
      else owners.set(code, [source]);
    }
  }
  return [...owners]
    .filter(([, sources]) => sources.length > 1)
    .map(([code, sources]) => ({ code, sources }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

/** One sentence per conflict, at most `max`, for a log line or an error. */
export function describeConflicts(conflicts: readonly ClaimConflict[], max = 10): string {
  const lines = conflicts
    .slice(0, max)
    .map((c) => `park code ${c.code} is claimed by ${c.sources.join(' and ')}`);
  if (conflicts.length > max) lines.push(`and ${conflicts.length - max} more codes`);
  return lines.join('; ');
}

export interface ClaimsRead {
  codes: Set<string>;
  /** The vendor table could not be read (only the lots ISP accepted are known). */
  vendorError?: string;
}

/** What one source claims: its vendor's lots and the lots ISP accepted from it. */
export async function readClaims(rt: Pick<Runtime, 'vendor' | 'config' | 'lotChanges'>): Promise<ClaimsRead> {
  const codes = new Set<string>((await rt.lotChanges.delivered('parks')).keys());
  try {
    for (const row of await readParks(rt.vendor, rt.config.streams.parks)) {
      // The transform's own reading of the code and the deleted flag: what would be sent is claimed.
      const code = requiredText(row.parkCode, 'parkCode');
      if (isReason(code) || isTruthyFlag(row.deleted)) continue;
      codes.add(code);
    }
    return { codes };
  } catch (error) {
    return { codes, vendorError: (error as Error).message };
  }
}
