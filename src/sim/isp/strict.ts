/**
 * Switches that make the simulator as strict as a real ISP may be, beyond the spec's schemas: each
 * off by default, so a test opts in to what it is about. Settable at start (options, `sim` flags)
 * and at run time (GET/PUT/PATCH /_sim/strict). Also words the refusals for lots ISP does not hold.
 */
import { z } from 'zod';
import type { UnknownLot } from './lots.js';

export interface Strictness {
  /**
   * Refuse (code 1, the whole batch) counts, entrances and departures of a lot that is not
   * registered (never added by POST /park/spot, or deleted since), and a DELETE naming one.
   * @defaultValue false
   */
  knownLots: boolean;
  /**
   * Decode every non-empty photo: strict Base64, then the JPEG itself. A photo that does not
   * decode refuses its batch (code 1) with the reason. An empty photo (open point 6) is taken.
   * @defaultValue false
   */
  decodePhotos: boolean;
  /**
   * Largest body of a data request, bytes; a larger one is answered HTTP 413 (code 1), as a
   * gateway in front of ISP would. 0: only the server's own limit.
   * @defaultValue 0
   */
  maxBodyBytes: number;
  /**
   * Answer a missing, unknown or expired token with HTTP 200 and `{"code":401}` instead of HTTP
   * 401 (spec §2 lists 401 as a body code).
   * @defaultValue false
   */
  unauthorizedInBody: boolean;
}

export const DEFAULT_STRICTNESS: Strictness = {
  knownLots: false,
  decodePhotos: false,
  maxBodyBytes: 0,
  unauthorizedInBody: false,
};

export const strictPatchSchema = z.strictObject({
  knownLots: z.boolean().optional(),
  decodePhotos: z.boolean().optional(),
  maxBodyBytes: z.number().int().nonnegative().optional(),
  unauthorizedInBody: z.boolean().optional(),
});

export type StrictPatch = z.infer<typeof strictPatchSchema>;

export function applyStrictPatch(base: Strictness, patch: StrictPatch): Strictness {
  const next: Strictness = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

/** Lots listed in one answer; the rest are counted. */
const MAX_LOTS_LISTED = 10;
/** Record indexes listed per lot. */
const MAX_INDEXES_LISTED = 5;

/**
 * The code 1 message for a batch naming lots ISP does not hold: each lot with why, and for data
 * the indexes of its records, e.g. `[0], [2] park_code "A": no such lot (never added by POST
 * /park/spot); [1] park_code "B": lot deleted (DELETE /park/spot at 2026-...)`. A DELETE's body is
 * one comma-joined string, so its lots are named without indexes.
 */
export function unknownLotsMessage(unknown: readonly UnknownLot[], withIndexes = true): string {
  const listed = unknown.slice(0, MAX_LOTS_LISTED).map(({ parkCode, indexes, lot }) => {
    const shown = withIndexes ? indexes.slice(0, MAX_INDEXES_LISTED).map((i) => `[${i}]`) : [];
    if (withIndexes && indexes.length > MAX_INDEXES_LISTED)
      shown.push(`and ${indexes.length - MAX_INDEXES_LISTED} more`);
    const where = shown.length > 0 ? `${shown.join(', ')} ` : '';
    const why =
      lot?.status === 'deleted' && lot.deletedAt !== null
        ? `lot deleted (DELETE /park/spot at ${new Date(lot.deletedAt).toISOString()})`
        : 'no such lot (never added by POST /park/spot)';
    return `${where}park_code ${JSON.stringify(parkCode)}: ${why}`;
  });
  const more = unknown.length - listed.length;
  return listed.join('; ') + (more > 0 ? `; and ${more} more lot${more > 1 ? 's' : ''}` : '');
}
