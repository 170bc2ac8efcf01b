import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime, type FakeRuntimeOptions } from '@nodeagent/cri-client/testing';
import { NodeStatusReporter } from '@nodeagent/node-status';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { criRuntimeStatus } from '../src/node-status-wiring';

/** The Node the upstream v1.36.3 kubelet wrote on containerd 1.6.20 (fidelity/, never edited). */
const upstreamNode = readFileSync(
  fileURLToPath(new URL('../../../fidelity/pod-status-v1.36/node.upstream.yaml', import.meta.url)),
  'utf8',
);

/** What containerd 2.1 answers in CRI Status (runc 1.1: no idmapped mounts, so no user namespaces). */
const containerd21: Pick<FakeRuntimeOptions, 'runtimeHandlers' | 'runtimeFeatures'> = {
  runtimeHandlers: [
    { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
    { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
    // A handler that sent no features supports neither (upstream toKubeRuntimeStatus).
    { name: 'kata', features: null },
  ],
  runtimeFeatures: { supplementalGroupsPolicy: true },
};

const opened: Array<{ close(): Promise<void> | void }> = [];

afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A reporter wired to a fake CRI runtime as the kubelet binary wires it, on a fake clock. */
async function nodeOn(runtime: Partial<FakeRuntimeOptions>) {
  const server: ApiServer = await startApiServer();
  opened.push(server);
  const fake = await FakeRuntime.start(runtime);
  opened.push({ close: () => fake.stop() });
  const client: CriClient = await createCriClient({ endpoint: fake.endpoint });
  opened.push({ close: () => client.close() });
  const errors: string[] = [];
  const reporter = new NodeStatusReporter({
    kubeConfig: server.kubeConfig(),
    config: { nodeName: 'n1', nodeIPs: ['10.77.0.1'] },
    machineInfo: async () => ({
      numCores: 2,
      memoryCapacityBytes: 2 ** 30,
      ephemeralStorageBytes: 2 ** 30,
      machineID: 'm',
      systemUUID: 'u',
      bootID: 'b',
      kernelVersion: '6.18.0',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      operatingSystem: 'linux',
      architecture: 'amd64',
      hostname: 'n1',
      hugePages: [],
    }),
    runtimeStatus: () => criRuntimeStatus(client),
    clock: new FakeClock(Date.UTC(2026, 0, 1)),
    onError: (_error, during) => errors.push(during),
  });
  opened.push({ close: () => reporter.stop() });
  await reporter.start();
  const core = server.kubeConfig().makeApiClient(CoreV1Api);
  const readStatus = async () =>
    // biome-ignore lint/suspicious/noExplicitAny: the wire fields client-node 1.4 may not model
    (await core.readNodeStatus({ name: 'n1' })).status as any;
  return { fake, reporter, readStatus, errors };
}

describe('status.runtimeHandlers and status.features from the runtime (upstream RuntimeHandlers, NodeFeatures)', () => {
  it('reports each handler the runtime lists, in its order, both flags spelt out, and its features', async () => {
    const node = await nodeOn(containerd21);
    const status = await node.readStatus();
    expect(status.runtimeHandlers).toEqual([
      { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
      { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
      { name: 'kata', features: { recursiveReadOnlyMounts: false, userNamespaces: false } },
    ]);
    expect(status.features).toEqual({ supplementalGroupsPolicy: true });
    expect(node.fake.calls).toContain('Status');
  });

  it('leaves both out for a runtime that reports neither (containerd 1.6), as the upstream recording shows', async () => {
    const node = await nodeOn({});
    const status = await node.readStatus();
    expect(status.runtimeHandlers).toBeUndefined();
    expect(status.features).toBeUndefined();
    // The recording's status (two-space keys under `status:`) has neither field.
    expect(upstreamNode).toMatch(/^status:\n {2}addresses:/m);
    expect(upstreamNode).not.toMatch(/^ {2}(runtimeHandlers|features):/m);
  });

  it('keeps the last handlers when a later Status call fails', async () => {
    const node = await nodeOn(containerd21);
    node.fake.injectError('Status', { code: 14, details: 'runtime restarting' });
    await node.reporter.syncStatus();
    expect(node.errors).toContain('container runtime status');
    const status = await node.readStatus();
    expect(status.runtimeHandlers.map((h: { name: string }) => h.name)).toEqual(['runc', '', 'kata']);
    expect(status.features).toEqual({ supplementalGroupsPolicy: true });
  });
});
