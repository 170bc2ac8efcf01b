import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ExecProbeExecutor, ExecTimeoutError, MAX_PROBE_OUTPUT_BYTES, runExecProbe } from '../src/index';

afterEach(() => {
  vi.useRealTimers();
});

describe('runExecProbe with an injected executor', () => {
  it('passes the command and timeout through and treats exit 0 as Success', async () => {
    const calls: Array<[string[], number]> = [];
    const exec: ExecProbeExecutor = async (command, timeoutMs) => {
      calls.push([command, timeoutMs]);
      return { exitCode: 0, stdout: 'ok\n', stderr: '' };
    };
    expect(await runExecProbe(exec, ['cat', '/tmp/healthy'], 2000)).toEqual({
      result: 'Success',
      output: 'ok\n',
    });
    expect(calls).toEqual([[['cat', '/tmp/healthy'], 2000]]);
  });

  it('treats a non-zero exit as Failure with stdout and stderr', async () => {
    const exec: ExecProbeExecutor = async () => ({ exitCode: 1, stdout: 'out ', stderr: Buffer.from('err') });
    expect(await runExecProbe(exec, ['false'], 1000)).toEqual({ result: 'Failure', output: 'out err' });
    const silent: ExecProbeExecutor = async () => ({ exitCode: 7, stdout: '', stderr: '' });
    // Upstream's output is the command's, even when empty (event `Liveness probe failed: `).
    expect(await runExecProbe(silent, ['x'], 1000)).toEqual({ result: 'Failure', output: '' });
  });

  it('reports an executor timeout as a Failure that says so', async () => {
    const exec: ExecProbeExecutor = async (command, timeoutMs) => {
      throw new ExecTimeoutError(command, timeoutMs);
    };
    // Upstream's output: the command joined by spaces, Go-quoted (remote_runtime.go's ExecSync).
    expect(await runExecProbe(exec, ['sh', '-c', 'echo "hi"'], 1000)).toEqual({
      result: 'Failure',
      output: 'command "sh -c echo \\"hi\\"" timed out',
    });
  });

  it('times out an executor that never answers', async () => {
    vi.useFakeTimers();
    const exec: ExecProbeExecutor = () => new Promise(() => {});
    const pending = runExecProbe(exec, ['hang'], 1000);
    await vi.advanceTimersByTimeAsync(1100);
    const out = await pending;
    expect(out).toEqual({ result: 'Failure', output: 'command "hang" timed out' });
  });

  it('reports other executor errors as Unknown', async () => {
    const exec: ExecProbeExecutor = async () => {
      throw new Error('container not found');
    };
    expect(await runExecProbe(exec, ['x'], 1000)).toEqual({
      result: 'Unknown',
      output: 'container not found',
    });
  });

  it('truncates output to 10 KiB', async () => {
    const exec: ExecProbeExecutor = async () => ({ exitCode: 0, stdout: 'y'.repeat(50_000), stderr: 'z' });
    const out = await runExecProbe(exec, ['x'], 1000);
    expect(out.output.length).toBe(MAX_PROBE_OUTPUT_BYTES);
  });

  it('stops waiting for the executor when cancelled', async () => {
    const controller = new AbortController();
    const pending = runExecProbe(() => new Promise(() => {}), ['hang'], 60_000, controller.signal);
    controller.abort();
    expect(await pending).toEqual({ result: 'Unknown', output: 'probe cancelled' });
    expect(
      await runExecProbe(async () => ({ exitCode: 0, stdout: '', stderr: '' }), ['x'], 1, controller.signal),
    ).toEqual({ result: 'Unknown', output: 'probe cancelled' });
  });

  it('waits the given grace for an executor that enforces the timeout itself (a slow exec set-up is no failure)', async () => {
    vi.useFakeTimers();
    // Answers 3 s after the call: the runtime spent 2.5 s setting the exec up, 0.5 s running it.
    const exec: ExecProbeExecutor = () =>
      new Promise((resolve) => setTimeout(() => resolve({ exitCode: 0, stdout: '', stderr: '' }), 3000));
    const pending = runExecProbe(exec, ['check'], 1000, undefined, 'c1', 15_000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await pending).toEqual({ result: 'Success', output: '' });
  });

  it('reports a CRI call past its deadline (DEADLINE_EXCEEDED) as a timed-out Failure', async () => {
    const exec: ExecProbeExecutor = async () => {
      throw Object.assign(new Error('ExecSync: DEADLINE_EXCEEDED: context deadline exceeded'), {
        code: 'DEADLINE_EXCEEDED',
      });
    };
    expect(await runExecProbe(exec, ['x'], 1000)).toEqual({
      result: 'Failure',
      output: 'command "x" timed out',
    });
  });
});
