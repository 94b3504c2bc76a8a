/**
 * Fees to yuan with at most two decimals (open point 9), computed exactly: every vendor value
 * (integer fen, DECIMAL text, float) becomes an integer number of fen by working on its decimal text,
 * and only the final fen / 100 is a float (the nearest double to the exact decimal, which is what
 * JSON prints). No `0.1 + 0.2` arithmetic on yuan. Negative fees are a quarantine reason.
 */
import { type QuarantineReason, reason, showValue } from './types.js';

export type MoneyUnit = 'fen' | 'yuan';

export interface Fen {
  fen: number;
  /** Digits beyond a fen were dropped (rounded half up): worth a warning for DECIMAL text. */
  rounded: boolean;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * Decimal text (or a number, through its shortest round-trip text) scaled by 10^`shift` and rounded
 * half away from zero to an integer. Exponent notation from floats (1e-7) is expanded first.
 */
function scaleDecimal(text: string, shift: number): { value: number; rounded: boolean } | undefined {
  let t = text.trim();
  if (/[eE]/.test(t)) {
    const n = Number(t);
    if (!Number.isFinite(n)) return undefined;
    t = n.toFixed(20).replace(/0+$/, '');
  }
  const m = DECIMAL_TEXT.exec(t);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  const kept = fracPart.slice(0, shift).padEnd(shift, '0');
  const dropped = fracPart.slice(shift);
  const digits = `${intPart}${kept}`.replace(/^0+(?=\d)/, '');
  if (digits.length > 15) return undefined; // beyond exact integers; no parking fee is that large
  let value = Number(digits || '0');
  const firstDropped = dropped.charCodeAt(0) - 48;
  if (firstDropped >= 5) value += 1;
  const rounded = /[1-9]/.test(dropped);
  return { value: value === 0 ? 0 : sign * value, rounded };
}

/** A vendor fee value to integer fen. `null` means "no fee recorded" and is 0 fen. */
export function toFen(value: unknown, unit: MoneyUnit, field: string): Fen | QuarantineReason {
  if (value === null || value === undefined) return { fen: 0, rounded: false };
  let text: string;
  let fromFloat = false;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return reason('bad-number', field, `${field} ${showValue(value)} is not a number`);
    text = String(value);
    fromFloat = !Number.isInteger(value);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    return reason('bad-number', field, `${field} ${showValue(value)} is not a number`);
  }
  const scaled = scaleDecimal(text, unit === 'yuan' ? 2 : 0);
  if (scaled === undefined) {
    return reason('bad-number', field, `${field} "${showValue(value)}" is not a decimal number`);
  }
  if (scaled.value < 0 || (scaled.value === 0 && /^\s*-/.test(text) && /[1-9]/.test(text))) {
    return reason('negative-fee', field, `${field} is negative (${showValue(value)})`);
  }
  // A float's last digits are binary noise, not the vendor's data: no warning for those.
  return { fen: scaled.value, rounded: scaled.rounded && !fromFloat };
}

/** Integer fen to yuan: the double nearest to fen/100, which prints with at most two decimals. */
export function fenToYuan(fen: number): number {
  return fen / 100;
}

export function isFen(value: Fen | QuarantineReason): value is Fen {
  return (value as Fen).fen !== undefined;
}
