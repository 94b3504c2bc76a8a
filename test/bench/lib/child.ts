/**
 * Runs one of the bench's TypeScript scripts (bare clients, the baseline uploader) as a child
 * process, with the project's loader, and returns the JSON it prints last on stdout.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../../../src/config/index.js';

export async function runScript<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 300_000,
): Promise<T> {
  const child = spawn(process.execPath, [resolve(PROJECT_ROOT, 'bin/run-ts.js'), script, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    err = (err + c.toString('utf8')).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  clearTimeout(timer);
  const last = out.trim().split('\n').at(-1);
  if (code !== 0 || !last) throw new Error(`${script} exited with ${code}: ${err.trim() || out.trim()}`);
  return JSON.parse(last) as T;
}
