/**
 * A vendor entrance row to the ISP entrance payload (spec §6) without its photo. Pure: config and
 * clock come from the context; bad data is returned as quarantine reasons, every one found.
 */
import type { RawEntrance } from '../config/vendor-rows.js';
import type { TransformContext } from './context.js';
import { carTypeFor, isReason, optionalText, requiredText } from './fields.js';
import { checkNotFuture } from './time.js';
import {
  type EntranceDraft,
  type QuarantineReason,
  settle,
  type Transformed,
  type Warning,
} from './types.js';

export function transformEntrance(row: RawEntrance, ctx: TransformContext): Transformed<EntranceDraft> {
  const reasons: QuarantineReason[] = [];
  const warnings: Warning[] = [];

  const parkCode = requiredText(row.parkCode, 'parkCode');
  if (isReason(parkCode)) reasons.push(parkCode);

  const enterTime = ctx.entranceTime(row.enterTime, 'enterTime');
  if (typeof enterTime !== 'number') reasons.push(enterTime);
  else {
    const future = checkNotFuture(
      enterTime,
      'enterTime',
      Math.floor(ctx.now() / 1000),
      ctx.futureToleranceSeconds,
    );
    if (future) reasons.push(future);
  }

  const plate = ctx.readPlate(row.plateNumber);
  const carType = carTypeFor(plate, row.carType, ctx, warnings);

  return settle('entrances', ctx, reasons, warnings, () => ({
    park_code: parkCode as string,
    plate_number: plate.plate,
    enter_time: enterTime as number,
    car_type: carType,
    car_logo: optionalText(row.carLogo) || ctx.defaultCarLogo,
  }));
}
