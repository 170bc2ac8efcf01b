import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeNodeConfigArgv, runKubeletUntil } from './binary-harness';

// The binary's topology manager against the fake CRI runtime: the three KubeletConfiguration
// fields are read (no unsupported-field warning), a policy other than none starts on this
// machine's NUMA nodes, and an option upstream refuses stops the start with its text.
let dir: string;
let fake: FakeRuntime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-topology-${process.pid}-`));
  fake = await FakeRuntime.start({});
});
afterAll(async () => {
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

function argv(name: string, lines: string[]): Promise<string[]> {
  return fakeNodeConfigArgv({ dir, name, nodeName: 'topology-node', endpoint: fake.endpoint, lines });
}

describe('the binary and its topology manager', { timeout: 120_000 }, () => {
  it('starts with best-effort per pod, warning about none of the three fields', async () => {
    const { stderr } = await runKubeletUntil(
      await argv('best-effort', ['topologyManagerPolicy: best-effort', 'topologyManagerScope: pod']),
      90_000,
      'kubelet started',
    );
    expect(stderr).toContain('kubelet started');
    expect(stderr).toContain(
      '"Creating topology manager with policy per scope" topologyPolicyName="best-effort" topologyScopeName="pod"',
    );
    expect(stderr).not.toMatch(/topologyManager(Policy|Scope)/);
  });

  it("refuses a max-allowable-numa-nodes below 8 with upstream's text", async () => {
    const { code, stderr } = await runKubeletUntil(
      await argv('max', [
        'topologyManagerPolicy: restricted',
        'topologyManagerPolicyOptions:',
        '  max-allowable-numa-nodes: "4"',
      ]),
      90_000,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Error: the minimum value of "max-allowable-numa-nodes" should not be less than 8',
    );
  });
});
