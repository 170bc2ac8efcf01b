import { readFile } from 'node:fs/promises';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimePodCidr } from '../../src/sync/runtime-pod-cidr';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

// The pod CIDR through CRI UpdateRuntimeConfig on a real containerd (1.6, or 2.1 with
// NODEAGENT_CONTAINERD=2.1). This containerd has no CNI conf_template, so an accepted CIDR
// changes nothing in it (it logs that it waits for another component's CNI config), and a CIDR
// it cannot route is refused with its own error.

let containerd: PrivateContainerd;
let client: CriClient;

beforeAll(async () => {
  containerd = await startPrivateContainerd();
  client = await createCriClient({ endpoint: containerd.endpoint });
});

afterAll(async () => {
  client?.close();
  await containerd?.stop();
});

const logger = { info: () => undefined };

describe('the pod CIDR handed to containerd (UpdateRuntimeConfig)', () => {
  it('is accepted, dual-stack too, and kept as the runtime state', async () => {
    const podCidr = new RuntimePodCidr(client, logger);
    expect(await podCidr.update('10.244.9.0/24,fd00:10:244:9::/64')).toBe(true);
    expect(podCidr.podCIDR).toBe('10.244.9.0/24,fd00:10:244:9::/64');
    // What containerd did with it: nothing, for want of a conf_template (its own log line).
    const log = await readFile(`${containerd.baseDir}/containerd.log`, 'utf8');
    expect(log).toContain('No cni config template is specified');
  });

  it("is refused, in containerd's words as upstream prints gRPC errors, when it is no CIDR", async () => {
    const podCidr = new RuntimePodCidr(client, logger);
    await expect(podCidr.update('not-a-cidr')).rejects.toThrow(
      /^failed to update pod CIDR: rpc error: code = Unknown desc = get routes: .*not-a-cidr/,
    );
    expect(podCidr.podCIDR).toBe('');
  });
});
