/**
 * A vendor departure row to the ISP departure payload (spec §7) without its photo, plus the visit's
 * entrance time when known (the pipeline orders a departure after its entrance). use_time and
 * pay_time are derived when the vendor lacks them (open point 8); fees are exact (open point 9).
 * Pure: bad data is returned as quarantine reasons, every one found.
 */
import type { RawDeparture } from '../config/vendor-rows.js';
import type { TransformContext, UseTimeRounding } from './context.js';
import { carTypeFor, isReason, optionalText, requiredText } from './fields.js';
import { fenToYuan, isFen, toFen } from './money.js';
import { checkNotFuture } from './time.js';
import {
  type DepartureDraft,
  type QuarantineReason,
  reason,
  settle,
  showValue,
  type Warning,
} from './types.js';

/**
 * A departure draft, plus the visit's entrance time (Unix seconds) and the entrance row's vendor id
 * (each null when the vendor row does not give it): the pipeline orders a departure after its
 * entrance.
 */
export type DepartureTransformed =
  | {
      ok: true;
      value: DepartureDraft;
      enterTime: number | null;
      entranceId: string | null;
      warnings: Warning[];
    }
  | { ok: false; reasons: QuarantineReason[]; warnings: Warning[] };

/** Whole minutes from seconds, rounded as configured (default: up, a started minute counts). */
export function minutesFrom(seconds: number, rounding: UseTimeRounding): number {
  const minutes = seconds / 60;
  if (rounding === 'floor') return Math.floor(minutes);
  if (rounding === 'round') return Math.round(minutes);
  return Math.ceil(minutes);
}

function vendorUseTime(value: unknown, ctx: TransformContext): number | QuarantineReason {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value)) n = Number(value);
  else return reason('bad-number', 'useTime', `useTime "${showValue(value)}" is not a number`);
  if (!Number.isFinite(n) || n < 0)
    return reason('bad-number', 'useTime', `useTime ${showValue(value)} is negative or not finite`);
  return ctx.useTimeUnit === 'seconds'
    ? minutesFrom(n, ctx.useTimeRounding)
    : minutesFrom(n * 60, ctx.useTimeRounding);
}

function moneyWarning(field: string, value: unknown): Warning {
  return {
    kind: 'rounded-money',
    field,
    value: showValue(value),
    message: `${field} ${showValue(value)} has digits below a fen; rounded half up`,
  };
}

export function transformDeparture(row: RawDeparture, ctx: TransformContext): DepartureTransformed {
  const reasons: QuarantineReason[] = [];
  const warnings: Warning[] = [];
  const nowSeconds = Math.floor(ctx.now() / 1000);
  const tolerance = ctx.futureToleranceSeconds;

  const parkCode = requiredText(row.parkCode, 'parkCode');
  if (isReason(parkCode)) reasons.push(parkCode);

  const departTime = ctx.departureTime(row.departTime, 'departTime');
  if (typeof departTime !== 'number') reasons.push(departTime);
  else {
    const future = checkNotFuture(departTime, 'departTime', nowSeconds, tolerance);
    if (future) reasons.push(future);
  }

  let enterTime: number | null = null;
  if (row.enterTime !== null && row.enterTime !== undefined) {
    const parsed = ctx.departureTime(row.enterTime, 'enterTime');
    if (typeof parsed !== 'number') reasons.push(parsed);
    else {
      enterTime = parsed;
      if (typeof departTime === 'number' && departTime < parsed) {
        reasons.push(
          reason(
            'depart-before-enter',
            'departTime',
            `departTime ${showValue(row.departTime)} is before enterTime ${showValue(row.enterTime)}`,
          ),
        );
      }
    }
  }

  let useTime: number | QuarantineReason;
  if (row.useTime !== null && row.useTime !== undefined) useTime = vendorUseTime(row.useTime, ctx);
  else if (enterTime !== null && typeof departTime === 'number') {
    useTime = minutesFrom(Math.max(0, departTime - enterTime), ctx.useTimeRounding);
  } else if (typeof departTime === 'number' && !reasons.some((r) => r.field === 'enterTime')) {
    useTime = reason(
      'missing-field',
      'useTime',
      'useTime is NULL and enterTime is unknown, so it cannot be derived',
    );
  } else useTime = 0; // a reason about the times is already recorded
  if (isReason(useTime)) reasons.push(useTime);

  const payable = toFen(row.payableFee, ctx.moneyUnit, 'payableFee');
  if (!isFen(payable)) reasons.push(payable);
  else if (payable.rounded) warnings.push(moneyWarning('payableFee', row.payableFee));
  const paid = toFen(row.paidFee, ctx.moneyUnit, 'paidFee');
  if (!isFen(paid)) reasons.push(paid);
  else if (paid.rounded) warnings.push(moneyWarning('paidFee', row.paidFee));
  const nothingPaid = isFen(paid) && paid.fen === 0;

  // pay_time: the departure time when nothing was paid or the vendor has no (or a zero) pay time.
  let payTime: number | undefined = typeof departTime === 'number' ? departTime : undefined;
  if (!nothingPaid && row.payTime !== null && row.payTime !== undefined) {
    const parsed = ctx.departureTime(row.payTime, 'payTime');
    if (typeof parsed === 'number') {
      const future = checkNotFuture(parsed, 'payTime', nowSeconds, tolerance);
      if (future) reasons.push(future);
      payTime = parsed;
    } else if (parsed.code !== 'zero-date') reasons.push(parsed);
  }

  const plate = ctx.readPlate(row.plateNumber);
  const carType = carTypeFor(plate, row.carType, ctx, warnings);

  // A NULL pay type on a visit that paid nothing is normal (free or monthly): no warning for that.
  const payRaw = row.payType;
  const payLookup = ctx.payType.lookup(
    nothingPaid && (payRaw === null || payRaw === '') ? undefined : payRaw,
  );
  if (payLookup.warning) warnings.push(payLookup.warning);

  const out = settle('departures', ctx, reasons, warnings, () => ({
    park_code: parkCode as string,
    plate_number: plate.plate,
    depart_time: departTime as number,
    car_type: carType,
    car_logo: optionalText(row.carLogo) || ctx.defaultCarLogo,
    use_time: useTime as number,
    payable_fee: fenToYuan((payable as { fen: number }).fen),
    paid_fee: fenToYuan((paid as { fen: number }).fen),
    pay_time: payTime as number,
    pay_type: ctx.payType.wire(payLookup.code),
  }));
  const entranceId = row.entranceId === null || row.entranceId === undefined ? null : String(row.entranceId);
  return out.ok ? { ...out, enterTime, entranceId } : out;
}
