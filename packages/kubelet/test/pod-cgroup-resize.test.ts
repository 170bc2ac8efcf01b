import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import {
  PodResizeActuationError,
  readPodCgroupConfig,
  resizePodCgroup,
} from '../src/cgroups/pod-cgroup-resize';

let root: string;
let fs: CgroupV1Filesystem;
const path = '/kubepods/burstable/podu';

async function seed(values: Record<string, string>): Promise<void> {
  for (const [file, value] of Object.entries(values)) {
    const dir = join(root, file.split('.')[0]!, path);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, file), value);
  }
}
const read = (file: string) => readFile(join(root, file.split('.')[0]!, path, file), 'utf8');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `na-cg-${process.pid}-`));
  await mkdir(join(root, 'pids'));
  fs = new CgroupV1Filesystem(root);
  await seed({
    'cpu.shares': '51',
    'cpu.cfs_quota_us': '10000',
    'cpu.cfs_period_us': '100000',
    'memory.limit_in_bytes': '50331648',
    'memory.usage_in_bytes': '1000000',
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resizePodCgroup (upstream doPodResizeAction order)', () => {
  it('reads the pod cgroup config; the v1 unlimited value is -1', async () => {
    await seed({ 'memory.limit_in_bytes': '9223372036854771712' });
    expect(await readPodCgroupConfig(fs, path)).toEqual({
      cpuShares: 51,
      cpuQuotaUs: 10000,
      cpuPeriodUs: 100000,
      memoryLimitBytes: -1,
    });
  });

  it('raises the pod CPU before the containers grow and lowers it after they shrink', async () => {
    const seen: string[] = [];
    await resizePodCgroup({
      fs,
      path,
      podName: 'p',
      target: { cpuShares: 1945, cpuQuotaUs: 200000, cpuPeriodUs: 100000, memoryLimitBytes: 50331648 },
      resources: ['cpu'],
      updateContainers: async (resource) => {
        seen.push(
          `${resource}: pod shares ${await read('cpu.shares')} quota ${await read('cpu.cfs_quota_us')}`,
        );
      },
    });
    expect(seen).toEqual(['cpu: pod shares 1945 quota 200000']);
    seen.length = 0;
    await resizePodCgroup({
      fs,
      path,
      podName: 'p',
      target: { cpuShares: 51, cpuQuotaUs: 10000, cpuPeriodUs: 100000 },
      resources: ['cpu'],
      updateContainers: async (resource) => {
        seen.push(
          `${resource}: pod shares ${await read('cpu.shares')} quota ${await read('cpu.cfs_quota_us')}`,
        );
      },
    });
    expect(seen).toEqual(['cpu: pod shares 1945 quota 200000']);
    expect(await read('cpu.shares')).toBe('51');
    expect(await read('cpu.cfs_quota_us')).toBe('10000');
  });

  it('memory first, then CPU; a growing memory limit is set before the containers', async () => {
    const seen: string[] = [];
    await resizePodCgroup({
      fs,
      path,
      podName: 'p',
      target: { cpuShares: 51, cpuQuotaUs: 10000, cpuPeriodUs: 100000, memoryLimitBytes: 134217728 },
      resources: ['memory', 'cpu'],
      updateContainers: async (resource) => {
        seen.push(`${resource}: ${await read('memory.limit_in_bytes')}`);
      },
    });
    expect(seen).toEqual(['memory: 134217728', 'cpu: 134217728']);
  });

  it('refuses a memory limit at or below the current usage and writes nothing', async () => {
    await seed({ 'memory.usage_in_bytes': '60000000' });
    await expect(
      resizePodCgroup({
        fs,
        path,
        podName: 'p',
        target: { memoryLimitBytes: 50331648 - 1 },
        resources: ['memory'],
        updateContainers: async () => {
          throw new Error('must not be reached');
        },
      }),
    ).rejects.toThrow(
      new PodResizeActuationError(
        'aborting attempt to set pod memory limit less than current memory usage for pod p',
      ),
    );
    expect(await read('memory.limit_in_bytes')).toBe('50331648');
  });
});
