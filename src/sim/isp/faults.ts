/**
 * The simulator's behaviour switches: injected faults and the success answer style. Settable at
 * start and at run time (PUT/PATCH /_sim/faults). The decisions are pure functions of the switches,
 * a random number and the time, so tests can drive them deterministically.
 */
import { z } from 'zod';
import { RECORD_KINDS, type RecordKind, type WireRecord } from './kinds.js';

/** Answer code 1 for records of `kind` whose `field` equals `equals` (all of the kind when no field). */
export interface RejectRule {
  kind: RecordKind;
  field?: string | undefined;
  equals?: string | number | boolean | null | undefined;
  /** Text of the code 1 answer; default names the rule. */
  message?: string | undefined;
}

export interface Faults {
  /** Success answer: `code` 0 or 200 ... */
  successCode: 0 | 200;
  /** ... with the text under `msg` or `message` (the spec uses both). */
  messageKey: 'msg' | 'message';
  /** Lifetime of tokens issued from now on, seconds. */
  tokenTtlSeconds: number;
  /** Probability of answering HTTP 500 (code 500). */
  http500Rate: number;
  /** Probability of answering HTTP 429 with Retry-After. */
  http429Rate: number;
  retryAfterSeconds: number;
  /** Probability of destroying the connection without an answer, before anything is stored. */
  dropRate: number;
  /** Probability of destroying the connection after the batch was stored (the client cannot know). */
  dropAfterAcceptRate: number;
  /** Extra delay between receiving a request and handling it, ms (the handling happens even if the client gave up). */
  latencyMs: number;
  /** Until this epoch ms every ISP endpoint resets connections (0: up). */
  downUntil: number;
  rejectRules: RejectRule[];
  /** Apply latency, drops, 429 and 500 to POST /oauth/token too (the down window always applies). */
  tokenEndpointFaults: boolean;
  /** Probability of HTTP 500 from POST /oauth/token alone (a flaky auth server, data endpoints fine). */
  tokenHttp500Rate: number;
}

export const DEFAULT_FAULTS: Faults = {
  successCode: 0,
  messageKey: 'msg',
  tokenTtlSeconds: 3600,
  http500Rate: 0,
  http429Rate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  dropAfterAcceptRate: 0,
  latencyMs: 0,
  downUntil: 0,
  rejectRules: [],
  tokenEndpointFaults: false,
  tokenHttp500Rate: 0,
};

const rate = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().nonnegative();

export const rejectRuleSchema = z.strictObject({
  kind: z.enum(RECORD_KINDS),
  field: z.string().min(1).optional(),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  message: z.string().optional(),
});

/** A change of the switches; `downForMs` starts a down window from now (0 ends it). */
export const faultsPatchSchema = z.strictObject({
  successCode: z.union([z.literal(0), z.literal(200)]).optional(),
  messageKey: z.enum(['msg', 'message']).optional(),
  tokenTtlSeconds: z.number().int().positive().optional(),
  http500Rate: rate.optional(),
  http429Rate: rate.optional(),
  retryAfterSeconds: nonNegativeInt.optional(),
  dropRate: rate.optional(),
  dropAfterAcceptRate: rate.optional(),
  latencyMs: nonNegativeInt.optional(),
  downForMs: nonNegativeInt.optional(),
  rejectRules: z.array(rejectRuleSchema).optional(),
  tokenEndpointFaults: z.boolean().optional(),
  tokenHttp500Rate: rate.optional(),
});

export type FaultsPatch = z.infer<typeof faultsPatchSchema>;

export function applyFaultsPatch(base: Faults, patch: FaultsPatch, now: number): Faults {
  const { downForMs, ...rest } = patch;
  const next: Faults = { ...base };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (downForMs !== undefined) next.downUntil = downForMs > 0 ? now + downForMs : 0;
  return next;
}

export type InjectedFault = 'down' | 'drop' | 'http429' | 'http500';

/**
 * The fault a request meets before it is handled, if any. `random` is called once per rate that
 * is not zero, in the order token 500, drop, 429, 500.
 */
export function pickFault(
  faults: Faults,
  now: number,
  random: () => number,
  target: 'isp' | 'token' | 'other',
): InjectedFault | undefined {
  if (now < faults.downUntil) return 'down';
  if (target === 'token' && faults.tokenHttp500Rate > 0 && random() < faults.tokenHttp500Rate)
    return 'http500';
  if (target === 'other' || (target === 'token' && !faults.tokenEndpointFaults)) return undefined;
  if (faults.dropRate > 0 && random() < faults.dropRate) return 'drop';
  if (faults.http429Rate > 0 && random() < faults.http429Rate) return 'http429';
  if (faults.http500Rate > 0 && random() < faults.http500Rate) return 'http500';
  return undefined;
}

/** The first record of the batch a rule rejects, with the rule. */
export function findRejected(
  rules: readonly RejectRule[],
  kind: RecordKind,
  records: readonly WireRecord[],
): { index: number; rule: RejectRule } | undefined {
  const mine = rules.filter((rule) => rule.kind === kind);
  if (mine.length === 0) return undefined;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const rule = mine.find(
      (r) =>
        r.field === undefined ||
        (r.field in record && (r.equals === undefined || sameValue(record[r.field], r.equals))),
    );
    if (rule) return { index, rule };
  }
  return undefined;
}

/** Rules come from JSON or CLI text: "42" matches 42. */
function sameValue(value: unknown, expected: RejectRule['equals']): boolean {
  return value === expected || String(value) === String(expected);
}

/** `kind:field=value` (CLI form of a rule), e.g. `entrance:plate_number=京A00001`, or just `entrance`. */
export function parseRejectRule(text: string): RejectRule {
  const match = /^([a-z-]+)(?::([^=]+)(?:=(.*))?)?$/.exec(text.trim());
  const kind = match?.[1];
  if (!match || !kind || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new Error(
      `reject rule "${text}": expected kind[:field[=value]] with kind one of ${RECORD_KINDS.join(', ')}`,
    );
  }
  return {
    kind: kind as RecordKind,
    ...(match[2] !== undefined ? { field: match[2] } : {}),
    ...(match[3] !== undefined ? { equals: match[3] } : {}),
  };
}
