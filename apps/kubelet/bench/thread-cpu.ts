/**
 * CPU seconds of a process's threads, summed by thread name (Node's main thread, V8's workers,
 * libuv's pool), read from /proc/<pid>/task/<tid>/stat: where a start's CPU goes, beyond the
 * process's total (issue #51).
 */
import { readdir, readFile } from 'node:fs/promises';
import { processMemory } from '@nodeagent/testing';

const { cpuSeconds, sleep } = processMemory;

/** utime and stime are counted in clock ticks; USER_HZ is 100 on Linux. */
const TICKS_PER_SECOND = 100;

/**
 * User + system seconds of each thread of `pid`, by thread name, and under `process` the whole
 * process's (/proc/<pid>/stat): that includes the threads already gone (those of the executable
 * before it re-executed itself, short-lived ones), which no task file shows any more.
 */
export async function threadCpu(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = { process: await cpuSeconds(pid).catch(() => Number.NaN) };
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // The name sits in parentheses and may hold spaces; the fields after it are space-separated.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    out[name] = Math.round(((out[name] ?? 0) + seconds) * 100) / 100;
  }
  return out;
}

/**
 * `threadCpu` at each of `marksMs` (ms after `t0`, a performance.now() reading), keyed by the
 * mark in seconds. Resolves after the last mark.
 */
export async function threadCpuAt(
  pid: number,
  t0: number,
  marksMs: number[],
): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const mark of marksMs) {
    await sleep(Math.max(0, mark - (performance.now() - t0)));
    out[`${mark / 1000}s`] = await threadCpu(pid);
  }
  return out;
}
