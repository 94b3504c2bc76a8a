/**
 * Vendor values (Chinese text, the vendor's own enum numbers, lookup-table names) to ISP car type and
 * pay type codes through the configured dictionaries (config.dictionaries.*). Built once per context
 * into a Map; lookups are one trim and one Map get. Unknown values give the default code and a
 * warning naming the value. Owns no code table: codes and labels come from src/isp-spec.
 */
import type { Config } from '../config/index.js';
import { CAR_TYPES, type CarTypeCode, PAY_TYPES, type PayTypeCode } from '../isp-spec/index.js';
import { showValue, type Warning, type WarningKind } from './types.js';

export type DictionaryName = 'carType' | 'payType';

export interface Dictionary<C extends string> {
  name: DictionaryName;
  /**
   * Vendor value to code; `warning` is set when the value was unknown, NULL or blank. `undefined`
   * (column not mapped) gives the default code without a warning.
   */
  lookup(value: string | number | null | undefined): { code: C; warning?: Warning };
  /** What goes on the wire for a code: the code itself or its label (config.isp.codesAs). */
  wire(code: C): string;
}

const KINDS: Record<DictionaryName, { unknown: WarningKind; missing: WarningKind }> = {
  carType: { unknown: 'unknown-car-type', missing: 'missing-car-type' },
  payType: { unknown: 'unknown-pay-type', missing: 'missing-pay-type' },
};

function createDictionary<C extends string>(
  name: DictionaryName,
  config: { map: Record<string, string>; default: string },
  labels: Record<C, string>,
  codesAs: 'code' | 'label',
): Dictionary<C> {
  const map = new Map<string, C>();
  for (const [key, code] of Object.entries(config.map)) map.set(key.trim(), code as C);
  const fallback = config.default as C;
  const kinds = KINDS[name];
  /** The default code, with the warning that says why it was sent. */
  const defaulted = (kind: WarningKind, value: string, message: string, hint = '') => ({
    code: fallback,
    warning: { kind, field: name, value, message: `${message}; sent the default code ${fallback}${hint}` },
  });
  return {
    name,
    lookup(value) {
      // Column not mapped for this stream: the default is the deployment's choice, not a problem.
      if (value === undefined) return { code: fallback };
      if (value === null) return defaulted(kinds.missing, '', `${name} is NULL`);
      // Numbers as their decimal text: the vendor enum 2 matches the dictionary key "2".
      const key = typeof value === 'number' ? String(value) : value.trim();
      const code = map.get(key);
      if (code !== undefined) return { code };
      if (key === '') return defaulted(kinds.missing, '', `${name} is empty`);
      const shown = showValue(key);
      const message = `${name} "${shown}" is not in dictionaries.${name}.map`;
      return defaulted(kinds.unknown, shown, message, ' (add it to the config)');
    },
    wire: codesAs === 'label' ? (code) => labels[code] : (code) => code,
  };
}

export function createDictionaries(config: Config): {
  carType: Dictionary<CarTypeCode>;
  payType: Dictionary<PayTypeCode>;
} {
  return {
    carType: createDictionary('carType', config.dictionaries.carType, CAR_TYPES, config.isp.codesAs),
    payType: createDictionary('payType', config.dictionaries.payType, PAY_TYPES, config.isp.codesAs),
  };
}
