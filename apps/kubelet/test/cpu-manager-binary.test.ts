import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeNodeFlags, freePort, runKubeletUntil } from './binary-harness';
import { type StandaloneFakeNode, standaloneFakeNode } from './standalone-fake-node';

// The binary's CPU and memory manager checkpoints against the fake CRI runtime (#88): written at
// a default start as upstream v1.36 writes them; a later start under the static policy refuses
// the none checkpoint with upstream's text; static without reserved CPUs refuses to start.
let standalone: StandaloneFakeNode;

beforeAll(async () => {
  standalone = await standaloneFakeNode('na-kubelet-cpu-manager');
});
afterAll(async () => {
  await standalone?.close();
});

async function flags(rootDir: string): Promise<string[]> {
  return fakeNodeFlags({
    nodeName: 'cpu-node',
    rootDir,
    endpoint: standalone.fake.endpoint,
    port: await freePort(),
  });
}

describe('the binary and its CPU manager', { timeout: 120_000 }, () => {
  const rootDir = () => join(standalone.dir, 'root');

  it('writes cpu_manager_state (none) and memory_manager_state (None) at a default start', async () => {
    const { stderr } = await runKubeletUntil(
      ['--config', await standalone.writeConfig('default.yaml', []), ...(await flags(rootDir()))],
      90_000,
      'kubelet started',
    );
    expect(stderr).toContain('kubelet started');
    expect(stderr).toContain('"Starting CPU manager" policy="none"');
    expect(stderr).toContain('"Reconciling" reconcilePeriod="10s"');
    expect(stderr).toContain('"Starting memorymanager" policy="None"');
    expect(await readFile(join(rootDir(), 'cpu_manager_state'), 'utf8')).toBe(
      '{"policyName":"none","defaultCpuSet":"","checksum":1353318690}',
    );
    expect(await readFile(join(rootDir(), 'memory_manager_state'), 'utf8')).toBe(
      '{"policyName":"None","machineState":{},"checksum":4236770233}',
    );
  });

  it("refuses the static policy over the none checkpoint with upstream's text, naming the file", async () => {
    const path = await standalone.writeConfig('static.yaml', [
      'cpuManagerPolicy: static',
      'kubeReserved:',
      '  cpu: "1"',
    ]);
    const { code, stderr } = await runKubeletUntil(['--config', path, ...(await flags(rootDir()))], 90_000);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Error: start cpu manager error: could not restore state from checkpoint: configured policy "static" differs from state checkpoint policy "none", please drain this node and delete the CPU manager checkpoint file "${join(rootDir(), 'cpu_manager_state')}" before restarting Kubelet`,
    );
  });

  it('refuses the static policy without reserved CPUs before writing any checkpoint', async () => {
    const fresh = join(standalone.dir, 'root-unreserved');
    const { code, stderr } = await runKubeletUntil(
      [
        '--config',
        await standalone.writeConfig('unreserved.yaml', ['cpuManagerPolicy: static']),
        ...(await flags(fresh)),
      ],
      90_000,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('[cpumanager] unable to determine reserved CPU resources for static policy');
    await expect(readFile(join(fresh, 'cpu_manager_state'), 'utf8')).rejects.toThrow('ENOENT');
  });
});
