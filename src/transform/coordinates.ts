/**
 * Park coordinates (open point 4): validated against China's range before and after conversion,
 * converted between WGS84 / GCJ02 / BD09 with gcoord when the vendor's system differs from the one
 * ISP is sent, and rounded to 6 decimals (~0.1 m). Coordinates are optional at ISP, so a pair
 * outside China or swapped costs the lot its coordinates, never the lot: the result says why, and
 * the caller reports it as a warning. A swapped pair is swapped back only when the deployment opts
 * in (`streams.parks.fixSwappedCoordinates`), and then still reported.
 */
import gcoordModule from 'gcoord';
import { CHINA_BOUNDS, type CoordinateSystem } from '../isp-spec/index.js';
import { type QuarantineReason, reason, showValue, type WarningKind } from './types.js';

/** Why the vendor's pair was not sent as read; the caller turns it into a warning naming the lot. */
export interface CoordinatesNote {
  kind: Extract<WarningKind, 'coordinates-out-of-china' | 'coordinates-swapped' | 'coordinates-swapped-back'>;
  field: 'longitude' | 'latitude';
  message: string;
}

export type CoordinatesResult =
  | { ok: true; longitude: number; latitude: number; note?: CoordinatesNote }
  /** Nothing to send: none stored (NULL or 0,0), or, with a note, a pair that cannot be right. */
  | { ok: true; absent: true; note?: CoordinatesNote }
  | { ok: false; reasons: QuarantineReason[] };

export interface CoordinatesOptions {
  /** Send a pair that lies in China only swapped as its swap (default false: send none). */
  fixSwapped?: boolean;
}

const RANGE = `China: lng ${CHINA_BOUNDS.minLng}-${CHINA_BOUNDS.maxLng}, lat ${CHINA_BOUNDS.minLat}-${CHINA_BOUNDS.maxLat}`;

// gcoord's CJS build sets module.exports to the API while its typings declare a default export:
// under NodeNext the typings put the API on `.default`, at run time it is the module itself.
type Gcoord = typeof gcoordModule.default;
const gcoord: Gcoord =
  (gcoordModule as unknown as { default?: Gcoord }).default ?? (gcoordModule as unknown as Gcoord);

const CRS: Record<CoordinateSystem, Parameters<typeof gcoord.transform>[1]> = {
  WGS84: gcoord.WGS84,
  GCJ02: gcoord.GCJ02,
  BD09: gcoord.BD09,
};

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value)) return Number(value);
  return undefined;
}

function inLng(v: number): boolean {
  return v >= CHINA_BOUNDS.minLng && v <= CHINA_BOUNDS.maxLng;
}
function inLat(v: number): boolean {
  return v >= CHINA_BOUNDS.minLat && v <= CHINA_BOUNDS.maxLat;
}

export function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/**
 * Vendor longitude/latitude (numbers or DECIMAL text) in `from` to `to`. Both NULL (or both 0,
 * the legacy "unknown") is `absent`. A pair outside China, swapped, or leaving China's range in
 * the conversion is `absent` with a note (or, swapped and `fixSwapped`, the swapped pair with a
 * note). One coordinate without the other and non-numbers are quarantine reasons: those are a
 * column mapping to fix, not a lot's data.
 */
export function convertCoordinates(
  rawLng: unknown,
  rawLat: unknown,
  from: CoordinateSystem,
  to: CoordinateSystem,
  options: CoordinatesOptions = {},
): CoordinatesResult {
  const lngMissing = rawLng === null || rawLng === undefined || rawLng === '';
  const latMissing = rawLat === null || rawLat === undefined || rawLat === '';
  if (lngMissing && latMissing) return { ok: true, absent: true };
  if (lngMissing || latMissing) {
    const field = lngMissing ? 'longitude' : 'latitude';
    return {
      ok: false,
      reasons: [reason('missing-field', field, `${field} is NULL while the other coordinate is set`)],
    };
  }
  const lng = toNumber(rawLng);
  const lat = toNumber(rawLat);
  const reasons: QuarantineReason[] = [];
  if (lng === undefined)
    reasons.push(reason('bad-number', 'longitude', `longitude "${showValue(rawLng)}" is not a number`));
  if (lat === undefined)
    reasons.push(reason('bad-number', 'latitude', `latitude "${showValue(rawLat)}" is not a number`));
  if (lng === undefined || lat === undefined) return { ok: false, reasons };
  if (lng === 0 && lat === 0) return { ok: true, absent: true };

  const pair = `longitude ${lng} / latitude ${lat}`;
  if (inLng(lng) && inLat(lat)) return converted(lng, lat, from, to, pair);
  if (!(inLng(lat) && inLat(lng))) {
    return {
      ok: true,
      absent: true,
      note: {
        kind: 'coordinates-out-of-china',
        field: inLng(lng) ? 'latitude' : 'longitude',
        message: `${pair} is outside China (${RANGE}); sent without longitude/latitude`,
      },
    };
  }
  if (!options.fixSwapped) {
    return {
      ok: true,
      absent: true,
      note: {
        kind: 'coordinates-swapped',
        field: 'longitude',
        message: `${pair} look swapped (${RANGE}); sent without longitude/latitude: check the parks column mapping, or set streams.parks.fixSwappedCoordinates`,
      },
    };
  }
  const swapped = converted(lat, lng, from, to, pair);
  if ('absent' in swapped) return swapped;
  return {
    ...swapped,
    note: {
      kind: 'coordinates-swapped-back',
      field: 'longitude',
      message: `${pair} look swapped (${RANGE}); sent swapped back (streams.parks.fixSwappedCoordinates)`,
    },
  };
}

/** A pair inside China, in `to` at 6 decimals, unless the conversion takes it out of China's range. */
function converted(
  lng: number,
  lat: number,
  from: CoordinateSystem,
  to: CoordinateSystem,
  pair: string,
): { ok: true; longitude: number; latitude: number } | { ok: true; absent: true; note: CoordinatesNote } {
  let outLng = lng;
  let outLat = lat;
  if (from !== to) {
    const [x, y] = gcoord.transform([lng, lat], CRS[from], CRS[to]);
    outLng = x;
    outLat = y;
  }
  outLng = round6(outLng);
  outLat = round6(outLat);
  if (!(inLng(outLng) && inLat(outLat))) {
    return {
      ok: true,
      absent: true,
      note: {
        kind: 'coordinates-out-of-china',
        field: 'longitude',
        message: `${pair} leaves China's range after ${from} → ${to}; sent without longitude/latitude`,
      },
    };
  }
  return { ok: true, longitude: outLng, latitude: outLat };
}
