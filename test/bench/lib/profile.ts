/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of a worker and sums its self time by where the code
 * lives (our modules, bullmq, ioredis, undici, mysql2, node internals, GC, idle), to say what a
 * figure is bound by. Used by `npm run bench -- --profile`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ours = /\/work\/[^/]+\/[^/]+\/((?:src|jobs)\/.+)$/.exec(url) ?? /((?:src|jobs)\/[^:]+)$/.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url ? url : `native: ${fn}`;
}

/** Share of samples (0..1) per category, largest first, for every profile in `dir`. */
export function summarizeProfiles(
  dir: string,
  top = 15,
  nameIncludes = '',
): Array<{ file: string; shares: Array<[string, number]> }> {
  const out: Array<{ file: string; shares: Array<[string, number]> }> = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(nameIncludes));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const sums = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      const dt = profile.timeDeltas[i] ?? 0;
      if (!node) return;
      total += dt;
      const key = category(node.callFrame.functionName, node.callFrame.url);
      sums.set(key, (sums.get(key) ?? 0) + dt);
    });
    // The loader's worker thread (tsx) is idle throughout: only the main thread's profile matters.
    const idle = (sums.get('idle') ?? 0) / (total || 1);
    if (idle > 0.9) continue;
    out.push({
      file,
      shares: [...sums]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, v / (total || 1)]),
    });
  }
  return out;
}
