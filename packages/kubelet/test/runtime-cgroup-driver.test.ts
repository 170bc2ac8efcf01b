import { CriError } from '@nodeagent/cri-client';
import type { RuntimeConfigResponse } from '@nodeagent/cri-client/types';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  cgroupDriverFromRuntime,
  runtimeConfigUnimplementedMessage,
  UnknownRuntimeCgroupDriverError,
} from '../src/cri/runtime-cgroup-driver';

// What containerd 1.6 answers (gRPC 12, its method table has no RuntimeConfig).
const unimplemented = () =>
  new CriError(
    'RuntimeConfig',
    12,
    'unknown method RuntimeConfig for service runtime.v1.RuntimeService',
    'unix:///run/containerd.sock',
  );
const unavailable = () =>
  new CriError('RuntimeConfig', 14, 'connection refused', 'unix:///run/containerd.sock');

function recordingLogger() {
  const lines: { level: string; msg?: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A runtime answering each call with the next outcome (a response, or an error to throw). */
function runtime(...outcomes: (RuntimeConfigResponse | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async runtimeConfig(): Promise<RuntimeConfigResponse> {
      const outcome = outcomes[Math.min(calls++, outcomes.length - 1)]!;
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
}

describe('cgroupDriverFromRuntime (KubeletCgroupDriverFromCRI)', () => {
  it('keeps the configured driver when the runtime has no RuntimeConfig, with upstream log lines, asking once', async () => {
    const { lines, logger } = recordingLogger();
    const slept: number[] = [];
    const source = runtime(unimplemented());
    for (const configured of ['cgroupfs', 'systemd'] as const)
      expect(
        await cgroupDriverFromRuntime(source, configured, {
          logger,
          sleep: async (ms) => void slept.push(ms),
        }),
      ).toBe(configured);
    expect(source.calls).toBe(2);
    expect(slept).toEqual([]);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ['error', 'RuntimeConfig from runtime service failed'],
      ['info', runtimeConfigUnimplementedMessage],
      ['error', 'RuntimeConfig from runtime service failed'],
      ['info', runtimeConfigUnimplementedMessage],
    ]);
    expect(runtimeConfigUnimplementedMessage).toBe(
      'CRI implementation should be updated to support RuntimeConfig. Falling back to using cgroupDriver from kubelet config.',
    );
  });

  it('counts a runtime without RuntimeConfig on /metrics as upstream v1.36: kubelet_cri_losing_support{version="1.37.0"} 1', async () => {
    const { logger } = recordingLogger();
    const registry = new Registry();
    await cgroupDriverFromRuntime(runtime(unimplemented()), 'systemd', { logger, registry });
    expect(await registry.metrics()).toBe(
      [
        '# HELP kubelet_cri_losing_support the Kubernetes version that the currently running CRI implementation will lose support on if not upgraded.',
        '# TYPE kubelet_cri_losing_support gauge',
        'kubelet_cri_losing_support{version="1.37.0"} 1',
        '',
      ].join('\n'),
    );
    // A runtime that answers is not named at all (upstream registers the gauge only on fallback).
    const answered = new Registry();
    await cgroupDriverFromRuntime(runtime({ linux: { cgroupDriver: 0 } }), 'cgroupfs', {
      logger,
      registry: answered,
    });
    expect(await answered.metrics()).not.toContain('kubelet_cri_losing_support');
  });

  it("takes the runtime's driver over the configured one", async () => {
    const { lines, logger } = recordingLogger();
    expect(
      await cgroupDriverFromRuntime(runtime({ linux: { cgroupDriver: 0 } }), 'cgroupfs', { logger }),
    ).toBe('systemd');
    expect(
      await cgroupDriverFromRuntime(runtime({ linux: { cgroupDriver: 1 } }), 'systemd', { logger }),
    ).toBe('cgroupfs');
    expect(lines).toEqual([
      {
        level: 'info',
        obj: { cgroupDriver: 'systemd' },
        msg: 'Using cgroup driver setting received from the CRI runtime',
      },
      {
        level: 'info',
        obj: { cgroupDriver: 'cgroupfs' },
        msg: 'Using cgroup driver setting received from the CRI runtime',
      },
    ]);
  });

  it('keeps the configured driver when the answer has no Linux settings', async () => {
    const { logger } = recordingLogger();
    expect(await cgroupDriverFromRuntime(runtime({ linux: null }), 'cgroupfs', { logger })).toBe('cgroupfs');
  });

  it('refuses an unknown driver number, naming it', async () => {
    const { logger } = recordingLogger();
    const error = await cgroupDriverFromRuntime(
      runtime({ linux: { cgroupDriver: 7 as never } }),
      'cgroupfs',
      { logger },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownRuntimeCgroupDriverError);
    expect(error).toMatchObject({ value: 7, reason: 'runtime returned an unknown cgroup driver 7' });
  });

  it('retries other errors 2 s apart and succeeds when the runtime comes up', async () => {
    const { logger } = recordingLogger();
    const slept: number[] = [];
    const source = runtime(unavailable(), unavailable(), { linux: { cgroupDriver: 0 } });
    expect(
      await cgroupDriverFromRuntime(source, 'cgroupfs', { logger, sleep: async (ms) => void slept.push(ms) }),
    ).toBe('systemd');
    expect(source.calls).toBe(3);
    expect(slept).toEqual([2000, 2000]);
  });

  it('throws the last error after three failed attempts (upstream then does not start)', async () => {
    const { logger } = recordingLogger();
    const source = runtime(unavailable());
    const error = await cgroupDriverFromRuntime(source, 'cgroupfs', { logger, sleep: async () => {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CriError);
    expect((error as CriError).code).toBe('UNAVAILABLE');
    expect(source.calls).toBe(3);
  });
});
