/**
 * Licence plates: normalization (trim, no spaces / `·` / `-`, full-width to half-width, upper case),
 * no-plate markers, and validation against the mainland plate formats. A plate that fails validation
 * is still sent (as normalized) and counted; a plate is never dropped here.
 */

/** Plate text ISP requires when there is no plate (the field is required and must not be empty). */
export const NO_PLATE_TEXT = '无牌车';

/** Vendor texts meaning "no plate", compared after normalization; config adds more. */
export const NO_PLATE_MARKERS = ['无牌车', '无牌', '无车牌', '_无_', '未知', '未识别', 'NULL', '无'] as const;

export type PlateKind =
  | 'ordinary'
  | 'new-energy'
  | 'police'
  | 'trailer'
  | 'learner'
  | 'embassy'
  | 'consulate'
  | 'hk-macau'
  | 'invalid';

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const P = `[${PROVINCES}]`;
/** Serial characters: digits and letters except I and O. */
const S = '[A-HJ-NP-Z0-9]';

const RULES: [PlateKind, RegExp][] = [
  ['ordinary', new RegExp(`^${P}[A-Z]${S}{5}$`)],
  ['new-energy', new RegExp(`^${P}[A-Z](?:[DF]${S}{5}|\\d{5}[DF])$`)],
  ['police', new RegExp(`^${P}[A-Z]${S}{4}警$`)],
  ['trailer', new RegExp(`^${P}[A-Z]${S}{4}挂$`)],
  ['learner', new RegExp(`^${P}[A-Z]${S}{4}学$`)],
  ['hk-macau', new RegExp(`^粤Z${S}{4}[港澳]$`)],
  ['consulate', new RegExp(`^${P}[A-Z]${S}{4}领$`)],
  ['embassy', /^(?:使\d{6}|\d{3}使\d{3}|\d{6}使)$/],
];

/** Already normal: no spaces, separators, lower case or full-width characters to fix. */
const CLEAN = /^[\u4e00-\u9fa5A-Z0-9_]*$/;

/**
 * Normalized plate text: trimmed, without whitespace (also U+3000), `·`-like dots and dashes,
 * full-width ASCII folded to half-width, upper-cased.
 */
export function normalizePlate(raw: string): string {
  if (CLEAN.test(raw)) return raw;
  let out = '';
  for (const ch of raw) {
    let code = ch.codePointAt(0)!;
    // Full-width ASCII variants (Ａ, １, －, ．...) to ASCII.
    if (code >= 0xff01 && code <= 0xff5e) code -= 0xfee0;
    if (
      code <= 32 ||
      code === 0x3000 || // ideographic space
      code === 0xa0 || // no-break space
      code === 0x2d || // -
      code === 0xb7 || // ·
      code === 0x2022 || // •
      code === 0x30fb || // ・
      code === 0x2027 || // ‧
      code === 0x2219 || // ∙
      code === 0x2e || // .
      (code >= 0x2010 && code <= 0x2015) // hyphens and dashes
    ) {
      continue;
    }
    out += code >= 0x61 && code <= 0x7a ? String.fromCharCode(code - 32) : String.fromCodePoint(code);
  }
  return out;
}

/** Which format a normalized plate follows, or 'invalid'. */
export function classifyPlate(plate: string): PlateKind {
  for (const [kind, rule] of RULES) if (rule.test(plate)) return kind;
  return 'invalid';
}

export interface PlateResult {
  /** What goes on the wire (NO_PLATE_TEXT when there is no plate). */
  plate: string;
  noPlate: boolean;
  kind: PlateKind | 'none';
}

/** Builds the plate reader for a context: markers (built-in + configured) are normalized once. */
export function createPlateReader(extraMarkers: readonly string[]): (raw: unknown) => PlateResult {
  const markers = new Set<string>();
  for (const m of [...NO_PLATE_MARKERS, ...extraMarkers]) markers.add(normalizePlate(m));
  markers.add('');
  return (raw) => {
    if (raw === null || raw === undefined) return { plate: NO_PLATE_TEXT, noPlate: true, kind: 'none' };
    const plate = normalizePlate(typeof raw === 'string' ? raw : String(raw));
    if (markers.has(plate)) return { plate: NO_PLATE_TEXT, noPlate: true, kind: 'none' };
    return { plate, noPlate: false, kind: classifyPlate(plate) };
  };
}
