/**
 * Checks a request body against the spec schemas the way a strict ISP would, and words every
 * problem so an integrator can fix it: `[3].enter_time: looks like milliseconds ...`. Pure.
 * A body with any bad record is refused as a whole (the caller stores nothing of it).
 */
import type { z } from 'zod';
import { KINDS, type RecordKind, type WireRecord } from './kinds.js';

export type Validation = { ok: true; records: WireRecord[] } | { ok: false; message: string };

/** Problems listed in one answer; the rest are counted. */
const MAX_LISTED = 10;

export function validateBody(kind: RecordKind, body: unknown): Validation {
  if (kind === 'park-deletion') return validateDeletion(body);
  if (!Array.isArray(body)) {
    return { ok: false, message: `body must be a JSON array of ${kind} records, got ${typeName(body)}` };
  }
  if (body.length === 0) return { ok: false, message: 'body must hold at least one record' };
  const { schema } = KINDS[kind];
  const problems: string[] = [];
  let count = 0;
  for (let i = 0; i < body.length; i++) {
    const result = schema.safeParse(body[i], { error: wireMessage });
    if (result.success) continue;
    for (const issue of result.error.issues) {
      count++;
      if (problems.length < MAX_LISTED) problems.push(formatIssue(`[${i}]`, issue));
    }
  }
  if (count === 0) return { ok: true, records: body as WireRecord[] };
  return { ok: false, message: joinProblems(problems, count) };
}

function validateDeletion(body: unknown): Validation {
  const result = KINDS['park-deletion'].schema.safeParse(body, { error: wireMessage });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => formatIssue('', issue));
    return { ok: false, message: joinProblems(problems.slice(0, MAX_LISTED), problems.length) };
  }
  const codes = String((body as WireRecord).park_code).split(',');
  return { ok: true, records: codes.map((park_code) => ({ park_code })) };
}

function formatIssue(prefix: string, issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('');
  const where = `${prefix}${path}`.replace(/^\./, '');
  return where ? `${where}: ${issue.message}` : issue.message;
}

function joinProblems(problems: string[], count: number): string {
  const more = count - problems.length;
  return problems.join('; ') + (more > 0 ? `; and ${more} more problem${more > 1 ? 's' : ''}` : '');
}

/** Messages for zod's built-in issues in the simulator's words (custom messages pass through). */
const wireMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'is required'
        : `must be ${article(issue.expected)}, got ${typeName(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(issue.input)}`;
    default:
      return undefined;
  }
};

function article(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}
