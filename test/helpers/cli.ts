/** Runs the real `isp-park-sync` command in a child process, stdin closed (no TTY), and collects its output. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config/index.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `onStderr`: called with all of stderr so far, each time it grows (to act on a line as it comes). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 40_000,
  onStderr?: (stderr: string) => void,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/isp-park-sync.js', ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
      onStderr?.(stderr);
    });
    child.stdin.end();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isp-park-sync ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
