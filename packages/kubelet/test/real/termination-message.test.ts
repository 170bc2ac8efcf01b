import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../src/api/pod-types';
import { type NodeHarness, useNodeHarness } from './node-harness';

/**
 * Conformance "Container Runtime blackbox test on terminated container" (test/e2e/common/node/
 * runtime.go): the terminated state's message from the termination-log file, or from the log
 * tail with FallbackToLogsOnError, on a real containerd through the in-process API server.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

let count = 0;
async function terminated(container: Omit<Container, 'name' | 'image'>, phase: 'Succeeded' | 'Failed') {
  const name = `termination-message-${++count}`;
  node.createPod({
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'termination-message-container', image: node.busybox, ...container }],
    },
  });
  const pod = await node.waitPod(name, phase, (p: Pod) => (p.status?.phase === phase ? p : undefined));
  return pod.status!.containerStatuses![0]!.state.terminated!;
}

describe('termination messages on a real containerd', { timeout: 120_000 }, () => {
  it('should report termination message if TerminationMessagePath is set as non-root user and at a non-default path', async () => {
    const state = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: ['/bin/echo -n DONE > /dev/termination-custom-log'],
        terminationMessagePath: '/dev/termination-custom-log',
        securityContext: { runAsUser: 1000 },
      },
      'Succeeded',
    );
    expect(state.message).toBe('DONE');
  });

  it('should report termination message from log output if TerminationMessagePolicy FallbackToLogsOnError is set', async () => {
    const state = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: ['/bin/echo -n DONE; /bin/false'],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
      'Failed',
    );
    expect(state).toMatchObject({ exitCode: 1, reason: 'Error', message: 'DONE' });
  });

  it('keeps only the last 80 lines of the log, at most 2048 bytes', async () => {
    const state = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: ['i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo line-$i; done; exit 3'],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
      'Failed',
    );
    const lines = state.message!.trimEnd().split('\n');
    expect(lines).toHaveLength(80);
    expect(lines[0]).toBe('line-121');
    expect(lines.at(-1)).toBe('line-200');
    const x60 = 'x'.repeat(60);
    const long = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: [`X=${x60}; i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo "$i-$X"; done; exit 3`],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
      'Failed',
    );
    let all = '';
    for (let i = 1; i <= 50; i++) all += `${i}-${x60}\n`;
    expect(long.message).toBe(all.slice(all.length - 2048));
  });

  it('should report termination message as empty when pod succeeds and TerminationMessagePolicy FallbackToLogsOnError is set', async () => {
    const state = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: ['/bin/echo -n DONE'],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
      'Succeeded',
    );
    expect(state.message).toBeUndefined();
  });

  it('should report termination message from file when pod succeeds and TerminationMessagePolicy FallbackToLogsOnError is set', async () => {
    const state = await terminated(
      {
        command: ['/bin/sh', '-c'],
        args: ['/bin/echo -n OK > /dev/termination-log'],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
      'Succeeded',
    );
    expect(state.message).toBe('OK');
  });
});
