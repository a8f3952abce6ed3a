import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time a server spends, read from /proc (Linux): its event-loop thread (the main thread,
 * whose id is the process id) and the whole process (the click writer thread, libuv's pool
 * and the garbage collector's helpers included).
 */

/** USER_HZ: /proc counts CPU time in these ticks on every Linux. */
const TICKS_PER_S = 100;

function ticks(path: string): number {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

export interface CpuSample {
  eventLoopMs: number;
  processMs: number;
}

export function cpuSample(pid: number): CpuSample | null {
  try {
    return { eventLoopMs: (ticks(`/proc/${pid}/task/${pid}/stat`) * 1000) / TICKS_PER_S, processMs: (ticks(`/proc/${pid}/stat`) * 1000) / TICKS_PER_S };
  } catch {
    return null; // not Linux
  }
}

/** The threads of a process, for pinning all of them (taskset -p touches one). */
export function threadsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** µs of CPU per request between two samples, event loop and whole process. */
export function perRequest(before: CpuSample | null, after: CpuSample | null, requests: number): { eventLoopUs: number; processUs: number } | null {
  if (!before || !after || requests === 0) return null;
  return {
    eventLoopUs: ((after.eventLoopMs - before.eventLoopMs) * 1000) / requests,
    processUs: ((after.processMs - before.processMs) * 1000) / requests,
  };
}
