/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of a worker and sums its self time by where the code
 * lives (our modules, bullmq, ioredis, undici, mysql2, node internals, GC, idle), to say what a
 * figure is bound by; and by the innermost function of ours on each sample's stack, to say which of
 * our calls the time in libraries and natives (socket writes, say) was spent for. Used by
 * `npm run bench -- --profile`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/**
 * Our modules: src/ and jobs/ as the worker runs them, from the checkout or from the compile cache
 * of a development checkout (node_modules/.cache/isp-park-sync/<hash>/src/…, bin/compiled.js).
 */
const OURS = /(?:\/node_modules\/\.cache\/isp-park-sync\/[^/]+\/|\/)((?:src|jobs)\/[^:]+)$/;

function ourModule(url: string): string | undefined {
  if (/node_modules\/(?!\.cache\/isp-park-sync\/)/.test(url)) return undefined;
  return OURS.exec(url)?.[1];
}

function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  const ours = ourModule(url);
  if (ours) return `ours: ${ours}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url ? url : `native: ${fn}`;
}

/** A part of a profile: samples taken between `fromMsBeforeEnd` and `toMsBeforeEnd` before its end. */
export interface ProfileTail {
  fromMsBeforeEnd: number;
  toMsBeforeEnd: number;
}

export interface ProfileSummary {
  file: string;
  /** Self time per category, largest first (shares of all samples, idle included). */
  shares: Array<[string, number]>;
  /** The same samples by the innermost function of ours on their stack (`-`: none of ours on it). */
  callers: Array<[string, number]>;
  /** Seconds of samples summed. */
  seconds: number;
}

/** Shares of samples (0..1) per category, largest first, for every profile in `dir`. */
export function summarizeProfiles(
  dir: string,
  top = 15,
  nameIncludes = '',
  tail?: ProfileTail,
): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(nameIncludes));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const callerOf = new Map<number, string>();
    const ourCaller = (id: number): string => {
      const known = callerOf.get(id);
      if (known !== undefined) return known;
      const node = byId.get(id)!;
      const ours = ourModule(node.callFrame.url);
      const up = parent.get(id);
      const name = ours
        ? `${node.callFrame.functionName || '(anonymous)'} ${ours}`
        : up === undefined
          ? '-'
          : ourCaller(up);
      callerOf.set(id, name);
      return name;
    };
    const from = tail ? profile.endTime - tail.fromMsBeforeEnd * 1000 : Number.NEGATIVE_INFINITY;
    const to = tail ? profile.endTime - tail.toMsBeforeEnd * 1000 : Number.POSITIVE_INFINITY;
    const sums = new Map<string, number>();
    const callers = new Map<string, number>();
    let total = 0;
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      at += dt;
      const node = byId.get(id);
      if (!node || at <= from || at > to) return;
      total += dt;
      const key = category(node.callFrame.functionName, node.callFrame.url);
      sums.set(key, (sums.get(key) ?? 0) + dt);
      if (key !== 'idle') callers.set(ourCaller(id), (callers.get(ourCaller(id)) ?? 0) + dt);
    });
    // The loader's worker thread (tsx) is idle throughout: only the main thread's profile matters.
    const idle = (sums.get('idle') ?? 0) / (total || 1);
    if (idle > 0.9 && !tail) continue;
    const largest = (m: Map<string, number>): Array<[string, number]> =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, v / (total || 1)]);
    out.push({ file, shares: largest(sums), callers: largest(callers), seconds: total / 1e6 });
  }
  return out;
}
