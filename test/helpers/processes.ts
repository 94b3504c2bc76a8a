/**
 * Real processes for the failure tests: `isp-park-sync start` children, and a private redis-server
 * or mariadbd on a free port and a temp dir of their own, so a test can kill or restart them without
 * disturbing the shared services on 6379 and 3306.
 *
 * Every process is started in a process group of its own and registered here; `killAll()` (call it
 * from afterEach/afterAll) and an exit hook SIGKILL whatever group is still alive, so a failed test
 * leaves nothing running. Never kills anything it did not start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { PROJECT_ROOT } from '../../src/config/index.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  running(): boolean;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Lines written so far, in order (kept up to a bound). */
  lines(): string[];
  /** Sends `signal` to its whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGKILL to the group, and wait for the exit. */
  kill(): Promise<Exit>;
  /** Waits for a line matching `match`; throws if the process exits first or time runs out. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
}

const live = new Set<ManagedProcess>();
const MAX_LINES = 2_000;

/** SIGKILL every process group started here that is still alive, and wait for them. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the test process ends without its hooks having run.
  process.once('exit', () => {
    for (const p of live) killGroup(p.pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ManagedProcess {
  installExitHook();
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    child.once('error', () => undefined); // ENOENT and the like arrive as an event: said here instead.
    throw new Error(`${name}: could not start ${command} (is it installed?)`);
  }
  const pid = child.pid;
  const kept: string[] = [];
  const watchers = new Set<(line: string) => void>();
  let alive = true;
  const onData = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        kept.push(line);
        if (kept.length > MAX_LINES) kept.shift();
        for (const watch of watchers) watch(line);
      }
    });
  };
  onData(child.stdout);
  onData(child.stderr);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      live.delete(handle);
      // Anything else left in its group goes with it.
      killGroup(pid, 'SIGKILL');
      resolve({ code, signal });
    });
    child.once('error', () => {
      alive = false;
      live.delete(handle);
      resolve({ code: null, signal: null });
    });
  });

  const handle: ManagedProcess = {
    name,
    pid,
    exited,
    running: () => alive,
    output: () => kept.slice(-60).join('\n'),
    lines: () => [...kept],
    signal(signal) {
      if (alive) killGroup(pid, signal);
    },
    async stop(graceMs = 10_000) {
      if (!alive) return exited;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    async kill() {
      if (alive) killGroup(pid, 'SIGKILL');
      return exited;
    },
    waitForLine(match, what, timeoutMs = 30_000) {
      const found = kept.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer);
          watchers.delete(watch);
          if (error) reject(error);
          else resolve(line!);
        };
        const watch = (line: string) => {
          if (match(line)) done(undefined, line);
        };
        const timer = setTimeout(
          () => done(new Error(`${name}: no ${what} after ${timeoutMs} ms; output:\n${handle.output()}`)),
          timeoutMs,
        );
        watchers.add(watch);
        void exited.then((exit) =>
          done(
            new Error(`${name} exited (${JSON.stringify(exit)}) before ${what}; output:\n${handle.output()}`),
          ),
        );
      });
    },
  };
  live.add(handle);
  return handle;
}

/** A TCP port nobody listens on right now (the OS's pick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  server: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (!server.running()) throw new Error(`${server.name} exited while waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------
// isp-park-sync children

export interface WorkerOptions {
  /** Extra arguments after `start` (e.g. ['--role', 'pusher'], ['--no-web']). */
  args?: string[];
  /** How long start-up may take (the first start after a change compiles the sources). */
  timeoutMs?: number;
}

/**
 * Starts `node bin/isp-park-sync.js start` with `env` and waits for its "started" log line (the env
 * must set LOG_LEVEL to info or lower for that line to appear).
 */
export async function spawnWorker(
  name: string,
  env: NodeJS.ProcessEnv,
  options: WorkerOptions = {},
): Promise<ManagedProcess> {
  const child = spawnManaged(
    name,
    process.execPath,
    ['bin/isp-park-sync.js', 'start', ...(options.args ?? [])],
    {
      env,
    },
  );
  await child.waitForLine(
    (line) => line.includes('"isp-park-sync started"'),
    'start-up log line',
    options.timeoutMs ?? 45_000,
  );
  return child;
}

// ---------------------------------------------------------------------------------------------
// Private redis-server

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** The current server process (undefined while stopped). */
  process: ManagedProcess | undefined;
  /** SIGTERM (Redis fsyncs its AOF and exits) and wait. */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir, and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops it (if running) and removes its dir. */
  close(): Promise<void>;
}

/**
 * A redis-server of the test's own: free port, own dir, AOF with fsync on every write, no RDB.
 * `persistent: false`: no AOF either, so a restart starts empty (a Redis run without persistence).
 */
export async function startPrivateRedis(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const persistent = options.persistent ?? true;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ips-redis-'));
  const redis: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: undefined,
    async start() {
      if (redis.process?.running()) return;
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        persistent ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ];
      const server = spawnManaged(`redis-server:${port}`, 'redis-server', args);
      redis.process = server;
      try {
        await until('redis-server PING', () => redisPing(port), 15_000, server);
      } catch (error) {
        await server.kill();
        throw new Error(`${(error as Error).message}; output:\n${server.output()}`);
      }
    },
    async stop() {
      const server = redis.process;
      redis.process = undefined;
      if (!server) return;
      const exit = await server.stop(10_000);
      if (exit.code !== 0)
        throw new Error(`redis-server stopped with ${JSON.stringify(exit)}: ${server.output()}`);
    },
    async close() {
      await redis.process?.kill();
      redis.process = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/** One PING over a raw socket (no client library state to clean up). */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Private mariadbd

export interface PrivateMariadb {
  /** mysql://root@127.0.0.1:<port> (server, no database). */
  url: string;
  port: number;
  dir: string;
  process: ManagedProcess | undefined;
  /** SIGTERM (a clean shutdown) and wait. */
  stop(): Promise<void>;
  /** Starts it again on the same datadir and port, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (if running) and removes its dir. */
  close(): Promise<void>;
}

/**
 * A mariadbd of the test's own: a fresh datadir (mariadb-install-db, root without password on
 * 127.0.0.1), a free port, a small buffer pool and redo log so it installs and starts in seconds.
 */
export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ips-mariadb-'));
  const datadir = join(dir, 'data');
  mkdirSync(datadir);
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const small = ['--innodb-log-file-size=16M', '--innodb-buffer-pool-size=32M'];
  const install = spawnManaged('mariadb-install-db', 'mariadb-install-db', [
    '--no-defaults',
    `--datadir=${datadir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...asRoot,
    ...small,
  ]);
  const installed = await install.exited;
  if (installed.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${JSON.stringify(installed)}):\n${install.output()}`);
  }
  const url = `mysql://root@127.0.0.1:${port}`;
  const db: PrivateMariadb = {
    url,
    port,
    dir,
    process: undefined,
    async start() {
      if (db.process?.running()) return;
      const server = spawnManaged(`mariadbd:${port}`, '/usr/sbin/mariadbd', [
        '--no-defaults',
        ...asRoot,
        `--datadir=${datadir}`,
        `--socket=${join(dir, 'mysqld.sock')}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--skip-log-bin',
        '--performance-schema=OFF',
        `--log-error=${join(dir, 'error.log')}`,
        ...small,
      ]);
      db.process = server;
      try {
        await until('mariadbd to accept connections', () => mysqlPing(url), 30_000, server);
      } catch (error) {
        await server.kill();
        throw new Error(`${(error as Error).message}; error log:\n${errorLog(dir)}`);
      }
    },
    async stop() {
      const server = db.process;
      db.process = undefined;
      if (!server) return;
      const exit = await server.stop(30_000);
      if (exit.code !== 0)
        throw new Error(`mariadbd stopped with ${JSON.stringify(exit)}:\n${errorLog(dir)}`);
    },
    async close() {
      await db.process?.kill();
      db.process = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await db.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

async function mysqlPing(url: string): Promise<boolean> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 1_000 });
  try {
    await conn.query('SELECT 1');
    return true;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

function errorLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no error log)';
  }
}
