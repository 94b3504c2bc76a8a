/**
 * A quicker look at the photo worker alone than `npm run bench -- --only photos` (which also runs
 * the ceilings, the simulator figures and the URL fetch): the `throughput-photos-sink` set-up only
 * (photos under the limit, one child worker at product defaults, discard sink in this process), a
 * few runs, printing per run the events/s, CPU per event (user and system apart), page faults,
 * context switches, requests and records per request. Never writes a record; for comparing a
 * change, not for the docs.
 *
 *   node bin/run-ts.js test/bench/photo-sink-probe.ts [runs=3] [visits=1500]
 *
 * PROBE_PHOTOS=oversize uses the oversize camera set instead (fitted by the worker; try 150 visits)
 * and measures a bare sharp round over it before each run, printing the run's ratio to it.
 *
 * Environment: BENCH_WORKER_FLAGS (node flags for the worker), BENCH_WORKER_ENV (its environment
 * over src/cli/memory.ts WORKER_ENV, JSON), PROBE_CONFIG (JSON deep-merged into
 * the worker's config, e.g. '{"pipeline":{"pushConcurrency":4}}'), PROBE_MONITOR=1 (counts the
 * Redis commands the worker sends under the bench prefix, by name, through MONITOR: slows Redis,
 * so its run's rates are not comparable), BENCH_PROFILE_DIR (V8 CPU profile of each worker).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startDiscardSink } from './lib/discard-sink.js';
import { startStack, until } from './lib/stack.js';
import { seedWithPhotos } from './photos.js';
import { makeOversizePhotos, makeSmallPhotos, measureSharpCeiling } from './transform.js';

const runs = Number(process.argv[2] ?? 3);
const visits = Number(process.argv[3] ?? 1_500);
const TICKS = 100;

/** utime, stime (s), minor faults, voluntary and involuntary context switches of a process. */
function usage(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const num = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    user: Number(f[11]) / TICKS,
    sys: Number(f[12]) / TICKS,
    minflt: Number(f[7]),
    vcs: num('voluntary_ctxt_switches'),
    ivcs: num('nonvoluntary_ctxt_switches'),
  };
}

const oversize = process.env.PROBE_PHOTOS === 'oversize';
const small = oversize ? await makeOversizePhotos(9) : await makeSmallPhotos(8);
const sink = await startDiscardSink();
const config = process.env.PROBE_CONFIG ? JSON.parse(process.env.PROBE_CONFIG) : undefined;
const stack = await startStack({
  style: 'entry-exit',
  photos: true,
  ispUrl: sink.url,
  ...(config ? { config } : {}),
});
try {
  const expected = await seedWithPhotos(stack, visits, small);
  const warmup = Math.round(expected * 0.15);
  console.log(
    `${expected} events, photos ${small.map((p) => Math.round(p.length / 1024)).join('/')} KB, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  for (let i = 0; i < runs; i++) {
    await stack.resetRedis();
    sink.reset();
    let monitor: Redis | undefined;
    const commands = new Map<string, number>();
    if (process.env.PROBE_MONITOR) {
      monitor = new Redis(stack.redis.url);
      const m = await monitor.monitor();
      m.on('monitor', (_time: string, args: string[]) => {
        if (!args.some((a) => a.includes(stack.redis.prefix))) return;
        const name = args[0]!.toLowerCase() === 'evalsha' ? `evalsha:${args[1]!.slice(0, 8)}` : args[0]!;
        commands.set(name, (commands.get(name) ?? 0) + 1);
      });
    }
    const bare = oversize
      ? (await measureSharpCeiling([...small, ...small], 2, 1, { similarity: false }))[0]!.value
      : undefined;
    const worker = stack.startWorker({ label: 'probe' });
    const deadline = Date.now() + 120_000;
    await until(() => sink.events() >= warmup, deadline, 20);
    const from = { u: usage(worker.pid), events: sink.events(), at: Date.now(), req: sink.requests() };
    const done = await until(() => sink.events() >= expected, deadline, 20);
    const to = {
      u: usage(worker.pid),
      events: sink.events(),
      at: done ? sink.lastReceipt() : Date.now(),
      req: sink.requests(),
    };
    const rss = worker.peakRssMb();
    await monitor?.quit();
    await stack.resetRedis();
    const n = to.events - from.events;
    const us = (x: number) => ((x * 1e6) / n).toFixed(0);
    const bodies = to.req.bodies - from.req.bodies;
    const rate = n / ((to.at - from.at) / 1000);
    const cores = (to.u.user - from.u.user + to.u.sys - from.u.sys) / ((to.at - from.at) / 1000);
    if (bare !== undefined)
      console.log(
        `run ${i + 1}: bare sharp ${bare.toFixed(1)} photos/s; worker ${rate.toFixed(1)} events/s (${(rate / bare).toFixed(3)}), ${cores.toFixed(2)} cores`,
      );
    console.log(
      `run ${i + 1}: ${rate.toFixed(oversize ? 1 : 0)} events/s, CPU ${us(to.u.user - from.u.user + to.u.sys - from.u.sys)} µs/event ` +
        `(user ${us(to.u.user - from.u.user)}, sys ${us(to.u.sys - from.u.sys)}), ` +
        `${((to.u.minflt - from.u.minflt) / n).toFixed(1)} faults/event, ` +
        `ctx switches ${((to.u.vcs - from.u.vcs) / n).toFixed(2)} vol + ${((to.u.ivcs - from.u.ivcs) / n).toFixed(2)} invol per event, ` +
        `${bodies} requests (${(n / bodies).toFixed(1)} events each), peak RSS ${rss.toFixed(0)} MB${done ? '' : ' INCOMPLETE'}`,
    );
    if (commands.size) {
      const total = [...commands.values()].reduce((a, b) => a + b, 0);
      console.log(
        `  Redis commands under the prefix, whole run: ${total} (${(total / expected).toFixed(2)} per event): ` +
          [...commands]
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
      );
    }
  }
} finally {
  await stack.close();
  await sink.close();
}
process.exit(0);
