import { goQuote } from '@nodeagent/primitives/go-text';
import { cancelledOutcome, onAbort } from './cancellation';
import { ExecTimeoutError } from './errors';
import { limitOutput } from './limit-output';
import type { ProbeRunOutcome } from './probe-types';

/** What an exec probe's command returned: exit code and output. */
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
  /**
   * How long past `timeoutMs` to wait for the executor before calling the run a timeout
   * (default 50 ms). An executor that enforces the timeout itself in the runtime (CRI ExecSync
   * counts it from the exec's start, not from the call) gets a grace covering its own deadline, so
   * a slow exec set-up on a loaded node is not a probe failure.
   */
  graceMs = 50,
): Promise<ProbeRunOutcome> {
  if (signal?.aborted) return cancelledOutcome();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const timeout = new Promise<never>((_, reject) => {
    // A grace period so that an executor that enforces the timeout itself reports first.
    timer = setTimeout(() => reject(new ExecTimeoutError(command, timeoutMs)), timeoutMs + graceMs);
  });
  try {
    const cancelled = new Promise<'cancelled'>((resolve) => {
      unsubscribe = onAbort(signal, () => resolve('cancelled'));
    });
    const res = await Promise.race([executor(command, timeoutMs, containerId), timeout, cancelled]);
    if (res === 'cancelled') return cancelledOutcome();
    const output = limitOutput(Buffer.concat([toBuffer(res.stdout), toBuffer(res.stderr)]));
    if (res.exitCode === 0) return { result: 'Success', output };
    // The output as the command gave it, possibly empty (upstream's event: `Liveness probe failed: `).
    return { result: 'Failure', output };
  } catch (err) {
    // A CRI call past its deadline is a timed-out probe too (upstream's remote runtime turns
    // DeadlineExceeded from ExecSync into a timeout error). The output is upstream's: the command
    // joined by spaces, Go-quoted, with no duration (event `Liveness probe failed: command "x" timed out`).
    const code = (err as { code?: string })?.code;
    if (err instanceof ExecTimeoutError || code === 'ETIMEDOUT' || code === 'DEADLINE_EXCEEDED') {
      return {
        result: 'Failure',
        output: `command ${goQuote(command.join(' '))} timed out`,
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
