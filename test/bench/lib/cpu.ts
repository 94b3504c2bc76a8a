/**
 * Where the CPU went during a run: user+system CPU seconds of the worker process(es), this bench
 * process (the simulator lives here), MariaDB and Redis, from /proc/<pid>/stat. Tells whether a
 * figure is bound by our worker, the simulator, the database or Redis on a 2-core machine.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine spent busy (all cores, all processes), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/** Pids of processes whose command name is `name` (e.g. mariadbd, redis-server). */
export function pidsNamed(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface CpuShare {
  /**
   * CPU seconds per process group over the window, plus `machine` (everything) and `others` (what
   * other processes on a shared machine took meanwhile).
   */
  seconds: Record<string, number>;
  /** The same as cores busy on average (CPU seconds ÷ wall seconds). */
  cores: Record<string, number>;
  wallSeconds: number;
}

/**
 * Starts counting; `stop()` gives the CPU used since. Worker pids are read at stop time too, so
 * pass the worker pids up front (their CPU from spawn counts: they start with the window).
 */
export function startCpuWindow(groups: Record<string, number[]>) {
  const begin = Date.now();
  const machineFirst = machineBusySeconds();
  const first = new Map<number, number>();
  for (const pids of Object.values(groups)) for (const pid of pids) first.set(pid, cpuSeconds(pid) ?? 0);
  return {
    stop(): CpuShare {
      const wallSeconds = (Date.now() - begin) / 1000;
      const seconds: Record<string, number> = {};
      let ours = 0;
      for (const [name, pids] of Object.entries(groups)) {
        let total = 0;
        for (const pid of pids) total += (cpuSeconds(pid) ?? 0) - (first.get(pid) ?? 0);
        seconds[name] = total;
        ours += total;
      }
      seconds.machine = machineBusySeconds() - machineFirst;
      seconds.others = Math.max(0, seconds.machine - ours);
      const cores: Record<string, number> = {};
      for (const [name, value] of Object.entries(seconds)) cores[name] = value / wallSeconds;
      return { seconds, cores, wallSeconds };
    },
  };
}
