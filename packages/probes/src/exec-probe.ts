import { cancelledOutcome, onAbort } from './cancellation';
import { ExecTimeoutError } from './errors';
import { limitOutput } from './limit-output';
import type { ProbeRunOutcome } from './probe-types';

export interface ExecResult {
  exitCode: number;
  stdout: string | Buffer;
  stderr: string | Buffer;
}

/**
 * Runs a command inside the container. The kubelet backs this with CRI ExecSync; it must never
 * run a shell on the host. Throw `ExecTimeoutError` (or resolve late) when the timeout passes.
 * `containerId` is the probed container instance (when the worker knows it).
 */
export type ExecProbeExecutor = (
  command: string[],
  timeoutMs: number,
  containerId?: string,
) => Promise<ExecResult>;

/** Exit code 0 is Success, any other Failure; a timeout is a Failure; an executor error is Unknown. */
export async function runExecProbe(
  executor: ExecProbeExecutor,
  command: string[],
  timeoutMs: number,
  signal?: AbortSignal,
  containerId?: string,
): Promise<ProbeRunOutcome> {
  if (signal?.aborted) return cancelledOutcome();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const timeout = new Promise<never>((_, reject) => {
    // A grace period so that an executor that enforces the timeout itself reports first.
    timer = setTimeout(() => reject(new ExecTimeoutError(command, timeoutMs)), timeoutMs + 50);
  });
  try {
    const cancelled = new Promise<'cancelled'>((resolve) => {
      unsubscribe = onAbort(signal, () => resolve('cancelled'));
    });
    const res = await Promise.race([executor(command, timeoutMs, containerId), timeout, cancelled]);
    if (res === 'cancelled') return cancelledOutcome();
    const output = limitOutput(Buffer.concat([toBuffer(res.stdout), toBuffer(res.stderr)]));
    if (res.exitCode === 0) return { result: 'Success', output };
    return { result: 'Failure', output: output || `command exited with code ${res.exitCode}` };
  } catch (err) {
    if (err instanceof ExecTimeoutError || (err as { code?: string })?.code === 'ETIMEDOUT') {
      return {
        result: 'Failure',
        output: `command ${JSON.stringify(command)} timed out after ${timeoutMs}ms`,
      };
    }
    return { result: 'Unknown', output: limitOutput(errorText(err)) };
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

function toBuffer(v: string | Buffer | undefined): Buffer {
  if (v == null) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
