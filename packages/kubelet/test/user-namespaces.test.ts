import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceMode } from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { buildContainerConfig } from '../src/cri/container-config';
import type { PodRuntime, RuntimeFeatures } from '../src/cri/pod-runtime';
import {
  defaultKubeletMapping,
  UserNamespaceAllocator,
  UserNamespaceError,
} from '../src/cri/user-namespaces';
import { createKubeletMetrics } from '../src/metrics';
import { PodSyncer } from '../src/sync/pod-syncer';
import type { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod, runtimeStatus } from './helpers/fixtures';
import { noObjects, podSyncerHost } from './helpers/pod-syncer-host';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function podsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'na-userns-'));
  dirs.push(dir);
  return dir;
}
const pod = (uid: string, spec: Partial<Pod['spec']> = { hostUsers: false }) =>
  makePod(spec, { uid, name: uid });
const block = (hostId: number, length = 65536) => ({
  mode: NamespaceMode.POD,
  uids: [{ hostId, containerId: 0, length }],
  gids: [{ hostId, containerId: 0, length }],
});

async function caught(work: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('UserNamespaceAllocator start-up checks (upstream MakeUserNsManager)', () => {
  it.each([
    [{ idsPerPod: 1000 }, 'kubelet user namespace length 1000 is not a multiple of 65536'],
    [
      { idsPerPod: 131072, kubeletMapping: { firstId: 65536, length: 131072 * 200 } },
      'kubelet user assigned ID 65536 is not a multiple of 131072',
    ],
    [
      { kubeletMapping: { firstId: 0, length: 65536 * 200 } },
      'kubelet user assigned ID 0 must be greater or equal to 65536',
    ],
    [
      { idsPerPod: 131072, kubeletMapping: { firstId: 131072, length: 65536 * 301 } },
      'kubelet user assigned IDs length 19726336 is not a multiple of 131072',
    ],
    [
      { kubeletMapping: { firstId: 65536, length: 65536 * 109 } },
      'kubelet user assigned IDs are not enough to support 110 pods',
    ],
  ])('refuses %j: %s', async (over, reason) => {
    const error = await caught(() =>
      UserNamespaceAllocator.create({
        kubeletMapping: defaultKubeletMapping,
        maxPods: 110,
        podsDir: '/nonexistent',
        ...over,
      }),
    );
    expect(error).toBeInstanceOf(UserNamespaceError);
    expect(error).toMatchObject({ reason });
  });

  it('userNamespaces.idsPerPod is read from the configuration (default unset = 65536)', () => {
    expect(parseKubeletConfiguration({}).config.userNamespaces?.idsPerPod).toBeUndefined();
    expect(
      parseKubeletConfiguration({ userNamespaces: { idsPerPod: 131072 } }).config.userNamespaces,
    ).toEqual({
      idsPerPod: 131072,
    });
  });
});

describe('UserNamespaceAllocator', () => {
  it('gives each pod the first free block, the same one again, and keeps it in the pod directory', async () => {
    const dir = await podsDir();
    const allocator = await UserNamespaceAllocator.create({
      kubeletMapping: defaultKubeletMapping,
      maxPods: 110,
      podsDir: dir,
    });
    expect(await allocator.mappingsFor(pod('a'))).toEqual(block(65536));
    expect(await allocator.mappingsFor(pod('b'))).toEqual(block(131072));
    expect(await allocator.mappingsFor(pod('a'))).toEqual(block(65536));
    expect(JSON.parse(await readFile(join(dir, 'a', 'userns'), 'utf8'))).toEqual({
      uidMappings: [{ hostId: 65536, containerId: 0, length: 65536 }],
      gidMappings: [{ hostId: 65536, containerId: 0, length: 65536 }],
    });
    // Freed: the file goes and the block is the next pod's.
    await allocator.releasePod('a');
    await expect(stat(join(dir, 'a', 'userns'))).rejects.toThrow();
    expect(await allocator.mappingsFor(pod('c'))).toEqual(block(65536));
    expect(allocator.allocated).toBe(2);
  });

  it('releases the blocks of pods neither known nor running (a pod deleted while the kubelet was down)', async () => {
    const dir = await podsDir();
    const options = { kubeletMapping: defaultKubeletMapping, maxPods: 110, podsDir: dir };
    const first = await UserNamespaceAllocator.create(options);
    await first.mappingsFor(pod('gone'));
    await first.mappingsFor(pod('kept'));
    const second = await UserNamespaceAllocator.create(options);
    expect(await second.releaseOrphans(['kept', 'other'])).toEqual(['gone']);
    expect(second.allocated).toBe(1);
    await expect(stat(join(dir, 'gone', 'userns'))).rejects.toThrow();
    expect(await second.mappingsFor(pod('new'))).toEqual(block(65536));
  });

  it('cuts idsPerPod blocks from the kubelet range', async () => {
    const allocator = await UserNamespaceAllocator.create({
      idsPerPod: 131072,
      kubeletMapping: { firstId: 262144, length: 131072 * 110 },
      maxPods: 110,
      podsDir: await podsDir(),
    });
    expect(await allocator.mappingsFor(pod('a'))).toEqual(block(262144, 131072));
    expect(await allocator.mappingsFor(pod('b'))).toEqual(block(393216, 131072));
  });

  it('after a restart, pods keep their blocks and new pods get others', async () => {
    const dir = await podsDir();
    const options = { kubeletMapping: defaultKubeletMapping, maxPods: 110, podsDir: dir };
    const first = await UserNamespaceAllocator.create(options);
    await first.mappingsFor(pod('a'));
    await first.mappingsFor(pod('b'));
    await first.releasePod('a');
    await mkdir(join(dir, 'no-userns'));
    const second = await UserNamespaceAllocator.create(options);
    expect(second.allocated).toBe(1);
    expect(await second.mappingsFor(pod('b'))).toEqual(block(131072));
    expect(await second.mappingsFor(pod('d'))).toEqual(block(65536));
  });

  it('runs out with its own words when every block is taken', async () => {
    const allocator = await UserNamespaceAllocator.create({
      kubeletMapping: { firstId: 65536, length: 65536 * 2 },
      maxPods: 2,
      podsDir: await podsDir(),
    });
    await allocator.mappingsFor(pod('a'));
    await allocator.mappingsFor(pod('b'));
    expect(await caught(() => allocator.mappingsFor(pod('c')))).toMatchObject({
      reason: 'could not find an empty slot to allocate a user namespace',
    });
  });

  it("refuses a pod's userns file that it could not have written (upstream's checks)", async () => {
    const cases: [unknown, string][] = [
      ['{', 'invalid user namespace mappings file'],
      [
        { uidMappings: [], gidMappings: [] },
        'invalid user namespace configuration: no more than one mapping allowed.',
      ],
      [
        {
          uidMappings: [{ hostId: 65536, containerId: 0, length: 65536 }],
          gidMappings: [{ hostId: 131072, containerId: 0, length: 65536 }],
        },
        'invalid user namespace configuration: GID and UID mapping should be identical',
      ],
      [
        {
          uidMappings: [{ hostId: 65536, containerId: 1, length: 65536 }],
          gidMappings: [{ hostId: 65536, containerId: 1, length: 65536 }],
        },
        'invalid user namespace configuration: UID 0 must be mapped',
      ],
      [
        {
          uidMappings: [{ hostId: 65536, containerId: 0, length: 1000 }],
          gidMappings: [{ hostId: 65536, containerId: 0, length: 1000 }],
        },
        'wrong user namespace length 1000',
      ],
      [
        {
          uidMappings: [{ hostId: 0, containerId: 0, length: 65536 }],
          gidMappings: [{ hostId: 0, containerId: 0, length: 65536 }],
        },
        'id 0 is out of range',
      ],
    ];
    for (const [content, reason] of cases) {
      const dir = await podsDir();
      await mkdir(join(dir, 'p'));
      await writeFile(
        join(dir, 'p', 'userns'),
        typeof content === 'string' ? content : JSON.stringify(content),
      );
      const error = await caught(() =>
        UserNamespaceAllocator.create({ kubeletMapping: defaultKubeletMapping, maxPods: 110, podsDir: dir }),
      );
      expect(error).toBeInstanceOf(UserNamespaceError);
      expect((error as UserNamespaceError).reason).toContain(reason);
    }
  });
});

describe('hostUsers: false in the pod sync', () => {
  /** A syncer whose runtime records the sandbox config and stops there. */
  async function syncOnce(
    features: RuntimeFeatures | undefined,
    allocator?: UserNamespaceAllocator,
    runtimeClassName?: string,
  ) {
    const sandboxes: unknown[] = [];
    const handlers: string[] = [];
    const metrics = createKubeletMetrics();
    const runtime = new Proxy({} as PodRuntime, {
      get: (_target, name) => async (config: unknown, handler?: string) => {
        if (name === 'runPodSandbox') {
          sandboxes.push(config);
          handlers.push(handler ?? '');
          throw new Error('stop here');
        }
      },
    });
    const warnings: string[] = [];
    const dir = await podsDir();
    const syncer = new PodSyncer({
      runtime,
      volumes: { setUp: async () => new Map() } as unknown as PodVolumeManager,
      cluster: {
        objects: noObjects,
        // A RuntimeClass named X has the CRI handler X-handler.
        runtimeHandler: async (name) => (name ? `${name}-handler` : ''),
      },
      clock: new FakeClock(),
      host: podSyncerHost(dir),
      listeners: {
        onWarning: (_pod, reason, message) => warnings.push(`${reason}: ${message}`),
      },
      node: { allocatable: undefined, runtimeFeatures: features },
      userNamespaces: allocator,
      metrics,
    });
    const p = pod('uid-1', { hostUsers: false, runtimeClassName });
    await syncer.applyPodActions(p, runtimeStatus(p, []));
    const count = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
    return {
      sandboxes,
      handlers,
      warnings,
      started: await count('kubelet_started_user_namespaced_pods_total'),
      errors: await count('kubelet_started_user_namespaced_pods_errors_total'),
    };
  }

  it('containerd 1.6 (no userNamespaces feature): the sandbox fails with upstream words, allocator or not', async () => {
    const allocator = await UserNamespaceAllocator.create({
      kubeletMapping: defaultKubeletMapping,
      maxPods: 110,
      podsDir: await podsDir(),
    });
    for (const features of [undefined, { userNamespaces: false, supplementalGroupsPolicy: false }]) {
      const { sandboxes, warnings, started, errors } = await syncOnce(features, allocator);
      expect(sandboxes).toEqual([]);
      // Counted as upstream counts it: one user-namespaced sandbox attempted, one failed.
      expect([started, errors]).toEqual([1, 1]);
      expect(warnings).toEqual([
        "FailedCreatePodSandBox: Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
      ]);
    }
    expect(allocator.allocated).toBe(0);
  });

  it("a runtime with user namespaces: the sandbox runs in the pod's allocated range", async () => {
    const allocator = await UserNamespaceAllocator.create({
      kubeletMapping: defaultKubeletMapping,
      maxPods: 110,
      podsDir: await podsDir(),
    });
    const { sandboxes, started, errors } = await syncOnce(
      { userNamespaces: true, supplementalGroupsPolicy: true },
      allocator,
    );
    expect(sandboxes).toHaveLength(1);
    // The recording runtime refuses RunPodSandbox after taking the config: attempted and failed.
    expect([started, errors]).toEqual([1, 1]);
    expect(
      (sandboxes[0] as { linux: { securityContext: { namespaceOptions: { usernsOptions: unknown } } } }).linux
        .securityContext.namespaceOptions.usernsOptions,
    ).toEqual(block(65536));
  });

  it("a RuntimeClass: its handler's userNamespaces feature decides, with upstream's words", async () => {
    const allocator = await UserNamespaceAllocator.create({
      kubeletMapping: defaultKubeletMapping,
      maxPods: 110,
      podsDir: await podsDir(),
    });
    // The default handler has user namespaces, kata's handler has not, gvisor's has.
    const features: RuntimeFeatures = {
      userNamespaces: true,
      supplementalGroupsPolicy: true,
      runtimeHandlers: [
        { name: '', userNamespaces: true },
        { name: 'kata-handler', userNamespaces: false },
        { name: 'gvisor-handler', userNamespaces: true },
      ],
    };
    const refused = await syncOnce(features, allocator, 'kata');
    expect(refused.sandboxes).toEqual([]);
    expect([refused.started, refused.errors]).toEqual([1, 1]);
    expect(refused.warnings).toEqual([
      'FailedCreatePodSandBox: Failed to create pod sandbox: can\'t set `spec.hostUsers: false`, RuntimeClass handler "kata-handler" does not support user namespaces',
    ]);

    const unknown = await syncOnce(features, allocator, 'runsc');
    expect(unknown.warnings).toEqual([
      'FailedCreatePodSandBox: Failed to create pod sandbox: can\'t set `spec.hostUsers: false`, RuntimeClass handler "runsc-handler" does not support user namespaces: the handler "runsc-handler" is not known',
    ]);

    const ran = await syncOnce(features, allocator, 'gvisor');
    expect(ran.warnings.filter((w) => w.includes('user namespaces'))).toEqual([]);
    expect(ran.handlers).toEqual(['gvisor-handler']);
    expect(
      (ran.sandboxes[0] as { linux: { securityContext: { namespaceOptions: { usernsOptions: unknown } } } })
        .linux.securityContext.namespaceOptions.usernsOptions,
    ).toEqual(block(65536));

    // The reverse: a default handler without user namespaces does not stop gvisor's pods.
    const defaultWithout: RuntimeFeatures = {
      ...features,
      userNamespaces: false,
      runtimeHandlers: [{ name: '', userNamespaces: false }, ...features.runtimeHandlers!.slice(1)],
    };
    expect((await syncOnce(defaultWithout, allocator, 'gvisor')).sandboxes).toHaveLength(1);
    expect((await syncOnce(defaultWithout, allocator)).warnings).toEqual([
      "FailedCreatePodSandBox: Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
    ]);
    // A runtime that lists no handlers (containerd 1.6, as recorded from upstream v1.36.3): the
    // default handler gets the bare words, a RuntimeClass's handler its own.
    const noList = { userNamespaces: false, supplementalGroupsPolicy: false, runtimeHandlers: [] };
    expect((await syncOnce(noList, allocator)).warnings).toEqual([
      "FailedCreatePodSandBox: Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
    ]);
    expect((await syncOnce(noList, allocator, 'kata')).warnings).toEqual([
      'FailedCreatePodSandBox: Failed to create pod sandbox: can\'t set `spec.hostUsers: false`, RuntimeClass handler "kata-handler" does not support user namespaces',
    ]);
  });

  it("container mounts are ID-mapped like the pod's user namespace", () => {
    const p = pod('uid-1');
    const config = buildContainerConfig(p, p.spec.containers[0]!, {
      restartCount: 0,
      env: [],
      volumes: new Map(),
      memoryCapacity: 1e9,
      etcHostsPath: '/var/lib/kubelet/pods/uid-1/etc-hosts',
      userNamespace: block(65536),
    });
    expect(config.mounts).toHaveLength(1);
    expect(config.mounts[0]).toMatchObject({
      containerPath: '/etc/hosts',
      uidMappings: block(65536).uids,
      gidMappings: block(65536).gids,
    });
    expect(config.linux.securityContext.namespaceOptions?.usernsOptions).toEqual(block(65536));
    // Without a user namespace, no mappings.
    const plain = pod('uid-2', {});
    const plainConfig = buildContainerConfig(plain, plain.spec.containers[0]!, {
      restartCount: 0,
      env: [],
      volumes: new Map(),
      memoryCapacity: 1e9,
      etcHostsPath: '/x',
    });
    expect(plainConfig.mounts[0]).not.toHaveProperty('uidMappings');
  });
});
