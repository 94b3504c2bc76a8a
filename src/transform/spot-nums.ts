/**
 * A vendor space-count row to the ISP spot-num payload (spec §5): total plus used or remain (or
 * both, which must agree) gives all three. Negative counts and more used or free than total are
 * quarantine reasons.
 */

import type { RawSpotNum } from '../config/vendor-rows.js';
import type { SpotNum } from '../isp-spec/index.js';
import type { TransformContext } from './context.js';
import { isReason, requiredText, wholeNumber } from './fields.js';
import { type QuarantineReason, reason, type Transformed } from './types.js';

export function transformSpotNum(row: RawSpotNum, _ctx: TransformContext): Transformed<SpotNum> {
  const reasons: QuarantineReason[] = [];
  const parkCode = requiredText(row.parkCode, 'parkCode');
  if (isReason(parkCode)) reasons.push(parkCode);

  const total = wholeNumber(row.total, 'total');
  if (isReason(total)) reasons.push(total);
  const hasUsed = row.used !== null && row.used !== undefined;
  const hasRemain = row.remain !== null && row.remain !== undefined;
  const used = hasUsed ? wholeNumber(row.used, 'used') : undefined;
  const remain = hasRemain ? wholeNumber(row.remain, 'remain') : undefined;
  if (isReason(used)) reasons.push(used);
  if (isReason(remain)) reasons.push(remain);
  if (!hasUsed && !hasRemain) {
    reasons.push(reason('missing-field', 'used', 'both used and remain are NULL'));
  }
  if (reasons.length > 0) return { ok: false, reasons, warnings: [] };

  const t = total as number;
  const u = used as number | undefined;
  const r = remain as number | undefined;
  const usedNum = u ?? t - (r as number);
  const remainNum = r ?? t - (u as number);
  const counts = `total ${t}, used ${u ?? '-'}, remain ${r ?? '-'}`;
  if (t < 0 || (u !== undefined && u < 0) || (r !== undefined && r < 0)) {
    reasons.push(reason('bad-spot-count', 'total', `negative space count (${counts})`));
  } else if (u !== undefined && u > t) {
    reasons.push(reason('bad-spot-count', 'used', `more spaces used than exist (${counts})`));
  } else if (r !== undefined && r > t) {
    reasons.push(reason('bad-spot-count', 'remain', `more spaces free than exist (${counts})`));
  } else if (u !== undefined && r !== undefined && u + r !== t) {
    reasons.push(reason('bad-spot-count', 'total', `used + remain != total (${counts})`));
  }
  if (reasons.length > 0) return { ok: false, reasons, warnings: [] };
  return {
    ok: true,
    value: {
      park_code: parkCode as string,
      total_spots_num: t,
      remain_spots_num: remainNum,
      used_spots_num: usedNum,
    },
    warnings: [],
  };
}
