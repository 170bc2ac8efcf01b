import { PatchStrategy, StorageV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiCsiDriverWatch } from '../src/api-csi-driver-watch';
import { waitFor } from './binary-harness';

let server: ApiServer;
let watch: ReturnType<typeof apiCsiDriverWatch>;

beforeEach(async () => {
  server = await startApiServer();
  watch = apiCsiDriverWatch(server.kubeConfig(), () => undefined);
});

afterEach(async () => {
  await watch.stop();
  await server.close();
});

describe('apiCsiDriverWatch', () => {
  it("keeps each CSIDriver's nodeAllocatableUpdatePeriodSeconds and tells of additions, period changes and deletions", async () => {
    const storage = server.kubeConfig().makeApiClient(StorageV1Api);
    const changed: string[] = [];
    watch.onChange((driver) => changed.push(driver));
    watch.start();
    await storage.createCSIDriver({
      body: { metadata: { name: 'ebs.csi.aws.com' }, spec: { nodeAllocatableUpdatePeriodSeconds: 60 } },
    });
    await waitFor(
      'the driver seen',
      async () => watch.nodeAllocatableUpdatePeriodMs('ebs.csi.aws.com') === 60_000,
    );
    expect(changed).toEqual(['ebs.csi.aws.com']);
    // A change of another field says nothing; a new period does.
    await storage.patchCSIDriver(
      { name: 'ebs.csi.aws.com', body: { metadata: { labels: { a: 'b' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await storage.patchCSIDriver(
      { name: 'ebs.csi.aws.com', body: { spec: { nodeAllocatableUpdatePeriodSeconds: 30 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      'the new period',
      async () => watch.nodeAllocatableUpdatePeriodMs('ebs.csi.aws.com') === 30_000,
    );
    expect(changed).toEqual(['ebs.csi.aws.com', 'ebs.csi.aws.com']);
    await storage.deleteCSIDriver({ name: 'ebs.csi.aws.com' });
    await waitFor('the driver gone', async () => changed.length === 3);
    expect(watch.nodeAllocatableUpdatePeriodMs('ebs.csi.aws.com')).toBe(0);
    expect(watch.nodeAllocatableUpdatePeriodMs('unknown.csi')).toBe(0);
  });
});
