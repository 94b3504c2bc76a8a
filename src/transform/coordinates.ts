/**
 * Park coordinates (open point 4): validated against China's range before and after conversion,
 * swapped-looking pairs reported with their own reason (never swapped silently), converted between
 * WGS84 / GCJ02 / BD09 with gcoord when the vendor's system differs from the one ISP is sent, and
 * rounded to 6 decimals (~0.1 m).
 */
import gcoordModule from 'gcoord';
import { CHINA_BOUNDS, type CoordinateSystem } from '../isp-spec/index.js';
import { type QuarantineReason, reason, showValue } from './types.js';

export type CoordinatesResult =
  | { ok: true; longitude: number; latitude: number }
  | { ok: true; absent: true }
  | { ok: false; reasons: QuarantineReason[] };

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
 * the legacy "unknown") is `absent`; one without the other, non-numbers, pairs outside China and
 * swapped-looking pairs are quarantine reasons.
 */
export function convertCoordinates(
  rawLng: unknown,
  rawLat: unknown,
  from: CoordinateSystem,
  to: CoordinateSystem,
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
  if (!(inLng(lng) && inLat(lat))) {
    if (inLng(lat) && inLat(lng)) {
      return {
        ok: false,
        reasons: [
          reason(
            'swapped-coordinates',
            'longitude',
            `longitude ${lng} / latitude ${lat} look swapped (China: lng ${CHINA_BOUNDS.minLng}-${CHINA_BOUNDS.maxLng}, lat ${CHINA_BOUNDS.minLat}-${CHINA_BOUNDS.maxLat}): check the parks column mapping`,
          ),
        ],
      };
    }
    return {
      ok: false,
      reasons: [
        reason(
          'out-of-china',
          inLng(lng) ? 'latitude' : 'longitude',
          `longitude ${lng} / latitude ${lat} is outside China (lng ${CHINA_BOUNDS.minLng}-${CHINA_BOUNDS.maxLng}, lat ${CHINA_BOUNDS.minLat}-${CHINA_BOUNDS.maxLat})`,
        ),
      ],
    };
  }
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
      ok: false,
      reasons: [
        reason(
          'out-of-china',
          'longitude',
          `longitude ${lng} / latitude ${lat} leaves China's range after ${from} → ${to}`,
        ),
      ],
    };
  }
  return { ok: true, longitude: outLng, latitude: outLat };
}
