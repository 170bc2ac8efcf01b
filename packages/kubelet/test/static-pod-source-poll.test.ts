import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, describe, expect, it } from 'vitest';
import { type StaticPodFileError, StaticPodSource } from '../src/sources/static-pod-source';

const manifest = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers: [{name: c, image: busybox}]
`;

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('StaticPodSource polling', () => {
  it('reports a directory that became unreadable, keeps its pods and polls again', async () => {
    dir = await mkdtemp(join(tmpdir(), `na-static-poll-${process.pid}-`));
    const manifests = join(dir, 'manifests');
    // A path that exists as a file reads as ENOTDIR: a directory read failure other than ENOENT
    // (EACCES does not stop root, which runs these tests).
    await writeFile(manifests, '');
    const clock = new FakeClock();
    const errors: StaticPodFileError[] = [];
    const updates: string[][] = [];
    const newSource = () =>
      new StaticPodSource({
        dir: manifests,
        nodeName: 'n1',
        checkFrequencyMs: 20_000,
        clock,
        onPods: (pods) => updates.push(pods.map((pod) => pod.metadata.name ?? '')),
        onError: (error) => errors.push(error),
      });
    const source = newSource();
    await expect(source.start()).rejects.toThrow(/ENOTDIR/);

    await rm(manifests);
    await mkdir(manifests);
    await writeFile(join(manifests, 'web.yaml'), manifest);
    await source.check();
    expect(updates).toEqual([['web-n1']]);

    // Polling: the directory turns unreadable; the poll reports it and schedules the next one.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const polling = newSource();
      await polling.start();
      await rm(manifests, { recursive: true });
      await writeFile(manifests, '');
      await clock.advanceAsync(20_000, () => new Promise((resolve) => setTimeout(resolve, 50)));
      await waitUntil(() => errors.length > 0);
      expect(errors[0]?.file).toBe(manifests);
      expect(errors[0]?.error.message).toMatch(/ENOTDIR/);
      // The next poll is scheduled: a readable directory again yields its pods.
      await rm(manifests);
      await mkdir(manifests);
      await clock.advanceAsync(20_000, () => new Promise((resolve) => setTimeout(resolve, 50)));
      await waitUntil(() => updates.length >= 3);
      expect(updates.at(-1)).toEqual([]);
      polling.stop();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('keeps the first-seen time of an unchanged manifest, and forgets a pod whose manifest changed', async () => {
    dir = await mkdtemp(join(tmpdir(), `na-static-seen-${process.pid}-`));
    let now = '2026-11-23T12:00:00Z';
    const updates: Record<string, string | undefined>[] = [];
    const source = new StaticPodSource({
      dir,
      nodeName: 'n1',
      checkFrequencyMs: 20_000,
      now: () => new Date(now),
      onPods: (pods) =>
        updates.push(
          Object.fromEntries(
            pods.map((pod) => [pod.metadata.name, pod.metadata.annotations?.['kubernetes.io/config.seen']]),
          ),
        ),
    });
    const db = manifest.replace('name: web', 'name: db');
    await writeFile(join(dir, 'db.yaml'), db);
    await writeFile(join(dir, 'web.yaml'), manifest);
    await source.check();
    now = '2026-11-23T12:01:00Z';
    await writeFile(join(dir, 'web.yaml'), manifest.replace('busybox', 'nginx'));
    await source.check();
    // The edit back makes the first web pod again; the kubelet dropped it, so it is seen anew.
    now = '2026-11-23T12:02:00Z';
    await writeFile(join(dir, 'web.yaml'), manifest);
    await source.check();
    expect(updates).toEqual([
      { 'db-n1': '2026-11-23T12:00:00.000Z', 'web-n1': '2026-11-23T12:00:00.000Z' },
      { 'db-n1': '2026-11-23T12:00:00.000Z', 'web-n1': '2026-11-23T12:01:00.000Z' },
      { 'db-n1': '2026-11-23T12:00:00.000Z', 'web-n1': '2026-11-23T12:02:00.000Z' },
    ]);
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  // A hang guard on the real clock: the poll's file I/O completes in real time.
  for (let waited = 0; !done(); waited += 20) {
    if (waited > 30_000) throw new Error('timed out waiting for the poll');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
