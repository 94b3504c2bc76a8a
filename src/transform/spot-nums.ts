/**
 * A vendor space-count row to the ISP spot-num payload (spec §5): total plus used or remain (or
 * both, which must agree) gives all three. An overfull lot (more used than total: cars parked
 * outside marked bays, a total set too low) is real data, not an error: it is sent with remain 0
 * and used as read (or used = total with `streams.spotNums.clampOverfull`), with a warning naming
 * the lot. Negative totals or used counts, more free than total, and used and remain that disagree
 * are quarantine reasons.
 */

import type { RawSpotNum } from '../config/vendor-rows.js';
import type { SpotNum } from '../isp-spec/index.js';
import type { TransformContext } from './context.js';
import { isReason, requiredText, wholeNumber } from './fields.js';
import { type QuarantineReason, reason, type Transformed, type Warning } from './types.js';

export function transformSpotNum(row: RawSpotNum, ctx: TransformContext): Transformed<SpotNum> {
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
  const counts = `total ${t}, used ${u ?? '-'}, remain ${r ?? '-'}`;
  // A vendor that keeps remain = total - used shows an overfull lot as a negative remain; one that
  // keeps both shows it as used > total with remain 0 (or negative).
  const usedNum = u ?? t - (r as number);
  if (t < 0 || (u !== undefined && u < 0)) {
    reasons.push(reason('bad-spot-count', 'total', `negative space count (${counts})`));
  } else if (r !== undefined && r > t) {
    reasons.push(reason('bad-spot-count', 'remain', `more spaces free than exist (${counts})`));
  } else if (u !== undefined && r !== undefined && u + r !== t && !(u > t && r === 0)) {
    reasons.push(reason('bad-spot-count', 'total', `used + remain != total (${counts})`));
  }
  if (reasons.length > 0) return { ok: false, reasons, warnings: [] };

  const code = parkCode as string;
  const warnings: Warning[] = [];
  let value: SpotNum;
  if (usedNum > t) {
    const sentUsed = ctx.clampOverfull ? t : usedNum;
    warnings.push({
      kind: 'overfull-lot',
      field: 'used',
      value: counts,
      message: `lot ${JSON.stringify(code)} is overfull: ${usedNum} spaces used of ${t}; sent with remain 0 and used ${sentUsed}${ctx.clampOverfull ? ' (streams.spotNums.clampOverfull)' : ''}`,
    });
    value = { park_code: code, total_spots_num: t, remain_spots_num: 0, used_spots_num: sentUsed };
  } else {
    value = { park_code: code, total_spots_num: t, remain_spots_num: t - usedNum, used_spots_num: usedNum };
  }
  ctx.onWarnings('spotNums', warnings);
  return { ok: true, value, warnings };
}
