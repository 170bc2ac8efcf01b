import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeNodeConfigArgv, runKubeletUntil } from './binary-harness';

// The binary's memory manager against the fake CRI runtime on this machine's NUMA nodes: the
// Static policy starts when reservedMemory adds up to Node allocatable's memory reservation
// (here the default hard eviction threshold, memory.available 100Mi) and writes its machine
// state; a reservation that does not add up stops the start with upstream's text.
let dir: string;
let fake: FakeRuntime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-memory-${process.pid}-`));
  fake = await FakeRuntime.start({});
});
afterAll(async () => {
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

function argv(name: string, lines: string[]): Promise<string[]> {
  return fakeNodeConfigArgv({ dir, name, nodeName: 'memory-node', endpoint: fake.endpoint, lines });
}

describe('the binary and its memory manager', { timeout: 120_000 }, () => {
  it('starts the Static policy and writes memory_manager_state with the reservation on node 0', async () => {
    const { stderr } = await runKubeletUntil(
      await argv('static', [
        'memoryManagerPolicy: Static',
        'reservedMemory:',
        '- numaNode: 0',
        '  limits:',
        '    memory: 100Mi',
      ]),
      90_000,
      'kubelet started',
    );
    expect(stderr).toContain('kubelet started');
    expect(stderr).toContain('"Starting memorymanager" policy="Static"');
    expect(stderr).not.toMatch(/field (memoryManagerPolicy|reservedMemory)/);
    const state = JSON.parse(await readFile(join(dir, 'static', 'memory_manager_state'), 'utf8'));
    expect(state.policyName).toBe('Static');
    expect(state.machineState['0'].memoryMap.memory.systemReserved).toBe(100 * 2 ** 20);
    expect(state.machineState['0'].cells).toEqual([0]);
  });

  it("refuses a reservedMemory that does not add up to Node allocatable's reservation, in upstream's words", async () => {
    const { code, stderr } = await runKubeletUntil(
      await argv('mismatch', [
        'memoryManagerPolicy: Static',
        'reservedMemory:',
        '- numaNode: 0',
        '  limits:',
        '    memory: 1Gi',
      ]),
      90_000,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      'the total amount "1Gi" of type "memory" is not equal to the value "100Mi" determined by Node Allocatable feature',
    );
  });
});
