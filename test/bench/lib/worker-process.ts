/**
 * Runs the worker as a deployment does: a child `node bin/isp-park-sync.js start --no-web`, with
 * its configuration from the environment and a config file. Samples the child's resident memory
 * (/proc/<pid>/status VmRSS) while it runs. Stopping sends SIGTERM (graceful) and waits.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../../../src/cli/memory.js';
import { PROJECT_ROOT } from '../../../src/config/index.js';

export interface WorkerProcess {
  pid: number;
  /** What the run is (for profile summaries). */
  label: string;
  /** Epoch ms the process was spawned. */
  spawnedAt: number;
  /** Epoch ms the process exited (undefined while it runs). */
  exitedAt(): number | undefined;
  /**
   * The part of the run (epoch ms) a `--profile` summary covers; default the whole run. Set by a
   * figure that measures a window of the run (e.g. idle CPU after start-up).
   */
  profileWindow?: { from: number; to: number };
  /** Highest VmRSS seen so far, MB (sampled every `sampleMs`). */
  peakRssMb(): number;
  /** Last lines of stderr/stdout (for a failure message). */
  output(): string;
  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export interface WorkerProcessOptions {
  env: NodeJS.ProcessEnv;
  roles?: string[];
  /** Extra node options. With BENCH_PROFILE_DIR set, --cpu-prof into that folder is added. */
  execArgv?: string[];
  label?: string;
  /** Serve the operator web server (for /metrics) on 127.0.0.1 at this port; default none. */
  webPort?: number;
  sampleMs?: number;
}

/** A TCP port free right now on 127.0.0.1 (for a child's web server). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** One counter or gauge from a Prometheus text page (sum over label sets matching `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function readRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const args = [
    // As deployed (Dockerfile, npm start): the worker's node flags.
    ...WORKER_NODE_FLAGS,
    ...(options.execArgv ?? []),
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    // Node/V8 flags to try on the worker (an experiment's, e.g. BENCH_WORKER_FLAGS='--max-semi-space-size=32').
    ...(process.env.BENCH_WORKER_FLAGS ? process.env.BENCH_WORKER_FLAGS.split(' ') : []),
    resolve(PROJECT_ROOT, 'bin/isp-park-sync.js'),
    'start',
  ];
  if (options.webPort === undefined) args.push('--no-web');
  if (options.roles) args.push('--role', ...options.roles);
  const env = {
    // As deployed (Dockerfile, systemd unit): the worker's environment, then an experiment's
    // (BENCH_WORKER_ENV, JSON, e.g. '{"MALLOC_ARENA_MAX":"16"}', glibc's own on 2 cores).
    ...WORKER_ENV,
    ...(process.env.BENCH_WORKER_ENV
      ? (JSON.parse(process.env.BENCH_WORKER_ENV) as Record<string, string>)
      : {}),
    ...options.env,
    ...(options.webPort === undefined ? {} : { WEB_HOST: '127.0.0.1', WEB_PORT: String(options.webPort) }),
  };
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnedAt = Date.now();
  // A bench that dies (Ctrl-C, an exception) must not leave workers polling behind it.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const pid = child.pid;
  if (pid === undefined) throw new Error('worker process did not start');
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let peak = 0;
  const sample = () => {
    const rss = readRssMb(pid);
    if (rss !== undefined && rss > peak) peak = rss;
  };
  const timer = setInterval(sample, options.sampleMs ?? 200);
  let exitedAt: number | undefined;
  const exited = new Promise<number | null>((done) => {
    child.on('exit', (code) => {
      exitedAt = Date.now();
      clearInterval(timer);
      process.off('exit', reap);
      done(code);
    });
  });
  return {
    pid,
    label: options.label ?? 'worker',
    spawnedAt,
    exitedAt: () => exitedAt,
    peakRssMb: () => {
      sample();
      return peak;
    },
    output: () => tail,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
