/**
 * Small readers of raw vendor values shared by the stream transforms: text fields, whole numbers,
 * soft-delete flags and the car type of a plate. Return a value or a quarantine reason; never throw.
 */
import type { TransformContext } from './context.js';
import type { PlateResult } from './plates.js';
import { type QuarantineReason, reason, showValue, type Warning } from './types.js';

/** Trimmed text; NULL or blank is a `missing-field` reason. */
export function requiredText(value: unknown, field: string): string | QuarantineReason {
  if (value === null || value === undefined) return reason('missing-field', field, `${field} is NULL`);
  const text = (typeof value === 'string' ? value : String(value)).trim();
  if (text === '') return reason('missing-field', field, `${field} is empty`);
  return text;
}

/** Trimmed text, or undefined for NULL. */
export function optionalText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? value : String(value)).trim();
}

/** A whole number from a number or integer text (BIGINT/DECIMAL columns arrive as strings). */
export function wholeNumber(value: unknown, field: string): number | QuarantineReason {
  if (value === null || value === undefined) return reason('missing-field', field, `${field} is NULL`);
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*[+-]?\d+(\.0*)?\s*$/.test(value)) n = Number.parseInt(value, 10);
  else return reason('bad-number', field, `${field} "${showValue(value)}" is not a whole number`);
  if (!Number.isSafeInteger(n))
    return reason('bad-number', field, `${field} ${showValue(value)} is not a whole number`);
  return n;
}

/** Soft-delete flag: 0, '0', '', 'N', 'false', 'no' and NULL are "not deleted"; anything else is. */
export function isTruthyFlag(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value)) return value.some((b) => b !== 0); // BIT(1) columns
  const text = String(value).trim().toLowerCase();
  return !(text === '' || text === '0' || text === 'n' || text === 'no' || text === 'false' || text === 'f');
}

export function isReason(value: unknown): value is QuarantineReason {
  return typeof value === 'object' && value !== null && typeof (value as QuarantineReason).code === 'string';
}

/** Car type code on the wire for a plate and the vendor's car type value; adds warnings. */
export function carTypeFor(
  plate: PlateResult,
  rawCarType: unknown,
  ctx: TransformContext,
  warnings: Warning[],
): string {
  if (plate.noPlate) {
    warnings.push({
      kind: 'no-plate',
      field: 'plateNumber',
      value: '',
      message: 'no plate: sent car type 5',
    });
    return ctx.carType.wire('5');
  }
  if (plate.kind === 'invalid') {
    warnings.push({
      kind: 'invalid-plate',
      field: 'plateNumber',
      value: plate.plate,
      message: `plate "${plate.plate}" matches no known plate format; sent as is`,
    });
  }
  const { code, warning } = ctx.carType.lookup(rawCarType as string | number | null | undefined);
  if (warning) warnings.push(warning);
  return ctx.carType.wire(code);
}
