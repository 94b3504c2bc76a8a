/**
 * A vendor parking-lot row to the ISP park payload (spec §3), with the soft-delete flag read so the
 * pipeline can send DELETE /park/spot instead. Coordinates are checked and converted (see
 * coordinates.ts); a pair that cannot be right is left out with a warning naming the lot, since
 * ISP takes lots without coordinates. A deleted lot needs only its code, so its other fields
 * cannot quarantine it.
 */

import type { RawPark } from '../config/vendor-rows.js';
import type { Park } from '../isp-spec/index.js';
import type { TransformContext } from './context.js';
import { convertCoordinates } from './coordinates.js';
import { isReason, isTruthyFlag, optionalText, requiredText } from './fields.js';
import { type QuarantineReason, settle, type Transformed, type Warning } from './types.js';

export interface ParkResult {
  park: Park;
  /** The vendor flags the lot as deleted: send it to DELETE /park/spot. */
  deleted: boolean;
}

export function transformPark(row: RawPark, ctx: TransformContext): Transformed<ParkResult> {
  const reasons: QuarantineReason[] = [];
  const warnings: Warning[] = [];
  const deleted = isTruthyFlag(row.deleted);

  const parkCode = requiredText(row.parkCode, 'parkCode');
  if (isReason(parkCode)) return { ok: false, reasons: [parkCode], warnings };

  const park: Park = { park_code: parkCode, coordinate_system: ctx.parkCoordinates.to };
  const name = optionalText(row.parkName);
  if (name) park.park_name = name;

  const coordinates = convertCoordinates(
    row.longitude,
    row.latitude,
    ctx.parkCoordinates.from,
    ctx.parkCoordinates.to,
    { fixSwapped: ctx.parkCoordinates.fixSwapped },
  );
  const pair = `${row.longitude ?? 'NULL'},${row.latitude ?? 'NULL'}`;
  if (!coordinates.ok) {
    if (!deleted) reasons.push(...coordinates.reasons);
  } else {
    // A deleted lot is sent as its code only: its coordinates are not worth a warning.
    if (coordinates.note && !deleted) {
      const { kind, field, message } = coordinates.note;
      warnings.push({ kind, field, value: pair, message: `lot ${JSON.stringify(parkCode)}: ${message}` });
    }
    if (!('absent' in coordinates)) {
      park.longitude = coordinates.longitude;
      park.latitude = coordinates.latitude;
    } else if (!coordinates.note && !deleted && (row.longitude !== undefined || row.latitude !== undefined)) {
      warnings.push({
        kind: 'no-coordinates',
        field: 'longitude',
        value: pair,
        message: `lot ${JSON.stringify(parkCode)} has no coordinates (NULL or 0,0); sent without longitude/latitude`,
      });
    }
  }

  const address = optionalText(row.address);
  if (address) park.address = address;

  return settle('parks', ctx, reasons, warnings, () => ({ park, deleted }));
}
