import { writeFile } from 'node:fs/promises';
import { KubeProxyError } from '../errors';

/** Where a process sets its own OOM killer adjustment. */
export const OOM_SCORE_ADJ_PATH = '/proc/self/oom_score_adj';

/** Writing oomScoreAdj failed (typically EACCES: lowering it needs CAP_SYS_RESOURCE). */
export class OomScoreAdjError extends KubeProxyError {
  readonly field = 'oomScoreAdj';
  constructor(
    readonly value: number,
    readonly path: string,
    reason: string,
  ) {
    super('OOM_SCORE_ADJ_FAILED', `oomScoreAdj: cannot write ${value} to ${path}: ${reason}`);
  }
}

/**
 * Applies `oomScoreAdj` to this process, as upstream's ProxyServer does at start
 * (oom.ApplyOOMScoreAdj on itself, -999 by default so the kernel kills nearly anything else first).
 * `path` is injectable for tests.
 */
export async function applyOomScoreAdj(value: number, path: string = OOM_SCORE_ADJ_PATH): Promise<void> {
  try {
    await writeFile(path, `${value}`);
  } catch (err) {
    throw new OomScoreAdjError(value, path, (err as Error).message);
  }
}
