import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { InvalidConfigError } from '../src/errors';
import { isCriticalPod } from '../src/eviction/critical-pod';
import { type EvictionSettings, evictionSettingsFromConfig } from '../src/eviction/eviction-config';
import { EvictionManager } from '../src/eviction/eviction-manager';
import { evictionMessage } from '../src/eviction/eviction-message';
import { podStatsLookup } from '../src/eviction/pod-usage';
import { formatBinaryQuantity, formatDecimalQuantity } from '../src/eviction/quantity-format';
import { rankPodsForEviction } from '../src/eviction/rank-pods';
import { signalObservations } from '../src/eviction/signal-observations';
import { thresholdsMet } from '../src/eviction/threshold-evaluation';
import type { PodStats, Summary } from '../src/stats/summary-types';
import { makePod } from './helpers/fixtures';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const time = '2025-01-01T00:00:00Z';

interface NodeFigures {
  memoryAvailable?: number;
  memoryWorkingSet?: number;
  nodefsAvailable?: number;
  nodefsCapacity?: number;
  inodesFree?: number;
  inodes?: number;
  imagefsAvailable?: number;
  pids?: number;
}

function summary(node: NodeFigures, pods: PodStats[] = []): Summary {
  return {
    node: {
      nodeName: 'node-a',
      startTime: time,
      memory: {
        time,
        availableBytes: node.memoryAvailable ?? 4 * Gi,
        workingSetBytes: node.memoryWorkingSet ?? 4 * Gi,
      },
      fs: {
        time,
        availableBytes: node.nodefsAvailable ?? 50 * Gi,
        capacityBytes: node.nodefsCapacity ?? 100 * Gi,
        inodesFree: node.inodesFree ?? 900_000,
        inodes: node.inodes ?? 1_000_000,
      },
      runtime: {
        imageFs: { time, availableBytes: node.imagefsAvailable ?? 50 * Gi, capacityBytes: 100 * Gi },
      },
      rlimit: { time, maxpid: 100_000, curproc: node.pids ?? 500 },
    },
    pods,
  };
}

function podStats(pod: Pod, memoryPerContainer: number, extra: Partial<PodStats> = {}): PodStats {
  return {
    podRef: { name: pod.metadata.name!, namespace: 'default', uid: pod.metadata.uid! },
    startTime: time,
    containers: pod.spec.containers.map((c) => ({
      name: c.name,
      startTime: time,
      memory: { time, workingSetBytes: memoryPerContainer },
    })),
    ...extra,
  };
}

function testPod(
  name: string,
  options: { memoryRequest?: string; priority?: number; guaranteed?: boolean } = {},
): Pod {
  const resources = options.guaranteed
    ? { limits: { cpu: '100m', memory: options.memoryRequest ?? '64Mi' } }
    : options.memoryRequest
      ? { requests: { memory: options.memoryRequest } }
      : undefined;
  return makePod(
    { containers: [{ name: 'app', image: 'busybox', resources }], priority: options.priority },
    { name, uid: `uid-${name}` },
  );
}

function settings(input: Parameters<typeof parseKubeletConfiguration>[0]): EvictionSettings {
  return evictionSettingsFromConfig(parseKubeletConfiguration(input).config);
}

describe('eviction settings', () => {
  it('uses the upstream hard defaults and attaches soft grace periods and minimum reclaim', () => {
    const defaults = settings({});
    expect(defaults.thresholds.map((t) => t.signal).sort()).toEqual([
      'imagefs.available',
      'imagefs.inodesFree',
      'memory.available',
      'nodefs.available',
      'nodefs.inodesFree',
    ]);
    expect(defaults.thresholds.every((t) => t.gracePeriodMs === 0)).toBe(true);
    expect(defaults.pressureTransitionPeriodMs).toBe(300_000);
    const soft = settings({
      evictionHard: { 'memory.available': '100Mi', 'pid.available': '1000' },
      evictionSoft: { 'memory.available': '1Gi' },
      evictionSoftGracePeriod: { 'memory.available': '1m30s' },
      evictionMinimumReclaim: { 'memory.available': '500Mi' },
    });
    const softMemory = soft.thresholds.find((t) => t.gracePeriodMs > 0)!;
    expect(softMemory).toMatchObject({ signal: 'memory.available', gracePeriodMs: 90_000 });
    expect(softMemory.minReclaim).toEqual({ quantity: 500 * Mi });
    expect(soft.thresholds.some((t) => t.signal === 'pid.available')).toBe(true);
  });

  it('drops hard thresholds set to 0 and rejects bad minimum reclaims', () => {
    const off = settings({ evictionHard: { 'memory.available': '0', 'nodefs.available': '0%' } });
    expect(off.thresholds).toEqual([]);
    expect(() =>
      evictionSettingsFromConfig({
        ...parseKubeletConfiguration({}).config,
        evictionMinimumReclaim: { 'memory.available': 'lots' },
      }),
    ).toThrow(InvalidConfigError);
  });
});

describe('signal observations and thresholds', () => {
  it('observes memory, nodefs, imagefs, inodes and pids from the summary', () => {
    const obs = signalObservations(
      summary({ memoryAvailable: 1 * Gi, memoryWorkingSet: 3 * Gi, pids: 99_500 }),
    );
    expect(obs.get('memory.available')).toEqual({ available: Gi, capacity: 4 * Gi });
    expect(obs.get('nodefs.inodesFree')).toEqual({ available: 900_000, capacity: 1_000_000 });
    expect(obs.get('containerfs.available')).toEqual(obs.get('imagefs.available'));
    expect(obs.get('pid.available')).toEqual({ available: 500, capacity: 100_000 });
  });

  it('meets percentage thresholds against capacity and keeps min-reclaim thresholds met longer', () => {
    const { thresholds } = settings({
      evictionHard: { 'nodefs.available': '10%' },
      evictionMinimumReclaim: { 'nodefs.available': '5Gi' },
    });
    expect(
      thresholdsMet(thresholds, signalObservations(summary({ nodefsAvailable: 9 * Gi })), false),
    ).toHaveLength(1);
    const recovered = signalObservations(summary({ nodefsAvailable: 12 * Gi }));
    expect(thresholdsMet(thresholds, recovered, false)).toHaveLength(0);
    // 12Gi < 10Gi + 5Gi: still met while enforcing the minimum reclaim.
    expect(thresholdsMet(thresholds, recovered, true)).toHaveLength(1);
  });
});

describe('pod ranking', () => {
  const stats = (pods: PodStats[]) => podStatsLookup(pods);

  it('memory: pods over their request first, then lower priority, then more usage above request', () => {
    const within = testPod('within', { memoryRequest: '512Mi' });
    const overSmall = testPod('over-small', { memoryRequest: '100Mi' });
    const overBig = testPod('over-big', { memoryRequest: '100Mi' });
    const overImportant = testPod('over-important', { memoryRequest: '100Mi', priority: 1000 });
    const besteffort = testPod('besteffort');
    const lookup = stats([
      podStats(within, 400 * Mi),
      podStats(overSmall, 150 * Mi),
      podStats(overBig, 400 * Mi),
      podStats(overImportant, 900 * Mi),
      podStats(besteffort, 200 * Mi),
    ]);
    const ranked = rankPodsForEviction(
      [within, overImportant, overSmall, besteffort, overBig],
      'memory',
      lookup,
    );
    expect(ranked.map((p) => p.metadata.name)).toEqual([
      'over-big',
      'besteffort',
      'over-small',
      'over-important',
      'within',
    ]);
  });

  it('puts pods without stats first and ranks pids by priority then process count', () => {
    const a = testPod('a');
    const b = testPod('b');
    const missing = testPod('missing');
    const lookup = stats([
      podStats(a, 10 * Mi, { process_stats: { process_count: 5 } }),
      podStats(b, 10 * Mi, { process_stats: { process_count: 50 } }),
    ]);
    expect(rankPodsForEviction([a, b, missing], 'memory', lookup)[0]!.metadata.name).toBe('missing');
    expect(rankPodsForEviction([a, b], 'pids', lookup).map((p) => p.metadata.name)).toEqual(['b', 'a']);
  });

  it('ranks disk pressure by ephemeral storage usage', () => {
    const small = testPod('small');
    const big = testPod('big');
    const lookup = stats([
      podStats(small, 0, { 'ephemeral-storage': { time, usedBytes: 10 * Mi } }),
      podStats(big, 0, { 'ephemeral-storage': { time, usedBytes: 900 * Mi } }),
    ]);
    expect(rankPodsForEviction([small, big], 'ephemeral-storage', lookup)[0]!.metadata.name).toBe('big');
  });
});

describe('eviction message', () => {
  it('formats quantities like resource.Quantity', () => {
    expect(formatBinaryQuantity(100 * Mi)).toBe('100Mi');
    expect(formatBinaryQuantity(99_496 * 1024)).toBe('99496Ki');
    expect(formatBinaryQuantity(1536)).toBe('1536');
    expect(formatDecimalQuantity(5000)).toBe('5k');
    expect(formatDecimalQuantity(0)).toBe('0');
  });

  it('names the resource, the threshold, what was available and the offending containers', () => {
    const pod = testPod('hog', { memoryRequest: '64Mi' });
    const { thresholds } = settings({ evictionHard: { 'memory.available': '100Mi' } });
    const observations = signalObservations(summary({ memoryAvailable: 50 * Mi }));
    const { message, annotations } = evictionMessage(
      'memory',
      pod,
      podStatsLookup([podStats(pod, 200 * Mi)]),
      thresholds,
      observations,
    );
    expect(message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ' +
        'Container app was using 200Mi, request is 64Mi, has larger consumption of memory. ',
    );
    expect(annotations).toMatchObject({ offending_containers: 'app', starved_resource: 'memory' });
  });
});

interface Harness {
  manager: EvictionManager;
  clock: FakeClock;
  evicted: { pod: Pod; grace: number; reason: string; message: string; disruptionTarget?: boolean }[];
  /** The signal of each eviction, as kubelet_evictions counts it. */
  signals: string[];
  summaries: number;
  setSummary(s: Summary): void;
  reclaims: number;
}

function harness(
  config: Parameters<typeof parseKubeletConfiguration>[0],
  pods: Pod[],
  options: { reclaim?: (h: Harness) => void; localStorageCapacityIsolation?: boolean } = {},
): Harness {
  const clock = new FakeClock();
  let current = summary({});
  const h: Harness = {
    clock,
    evicted: [],
    signals: [],
    summaries: 0,
    reclaims: 0,
    setSummary: (s) => {
      current = s;
    },
    manager: undefined as unknown as EvictionManager,
  };
  h.manager = new EvictionManager({
    settings: settings(config),
    summary: async () => {
      h.summaries++;
      return current;
    },
    activePods: () => pods.filter((p) => !h.evicted.some((e) => e.pod === p)),
    evictPod: (pod, grace, status) => {
      h.evicted.push({ pod, grace, ...status });
      return true;
    },
    reclaimDisk: options.reclaim
      ? async () => {
          h.reclaims++;
          options.reclaim!(h);
        }
      : undefined,
    clock,
    localStorageCapacityIsolation: options.localStorageCapacityIsolation,
    onEviction: (_pod, signal) => h.signals.push(signal),
  });
  return h;
}

describe('EvictionManager', () => {
  it('evicts one pod per pass on a hard memory threshold with a 1 s grace and reports MemoryPressure', async () => {
    const hog = testPod('hog', { memoryRequest: '10Mi' });
    const calm = testPod('calm', { memoryRequest: '1Gi' });
    const h = harness({}, [calm, hog]);
    h.setSummary(summary({ memoryAvailable: 80 * Mi }, [podStats(hog, 500 * Mi), podStats(calm, 100 * Mi)]));
    expect(await h.manager.synchronize()).toBe(hog);
    expect(h.evicted).toHaveLength(1);
    expect(h.evicted[0]).toMatchObject({ grace: 1, reason: 'Evicted' });
    expect(h.evicted[0]!.message).toMatch(
      /^The node was low on resource: memory\. Threshold quantity: 100Mi/,
    );
    expect(h.manager.pressure()).toEqual({ memoryPressure: true, diskPressure: false, pidPressure: false });
    expect(await h.manager.synchronize()).toBe(calm);
  });

  it('waits out a soft threshold grace period and caps the pod grace at evictionMaxPodGracePeriod', async () => {
    const pod = { ...testPod('p'), spec: { ...testPod('p').spec, terminationGracePeriodSeconds: 60 } };
    const h = harness(
      {
        evictionHard: {},
        evictionSoft: { 'memory.available': '1Gi' },
        evictionSoftGracePeriod: { 'memory.available': '30s' },
        evictionMaxPodGracePeriod: 20,
      },
      [pod],
    );
    h.setSummary(summary({ memoryAvailable: 512 * Mi }, [podStats(pod, 100 * Mi)]));
    expect(await h.manager.synchronize()).toBeUndefined();
    // The condition is on as soon as the soft threshold is met, before its grace period ends.
    expect(h.manager.nodeConditions()).toEqual(['MemoryPressure']);
    h.clock.advance(29_000);
    expect(await h.manager.synchronize()).toBeUndefined();
    h.clock.advance(1_000);
    expect(await h.manager.synchronize()).toBe(pod);
    expect(h.evicted[0]!.grace).toBe(20);
  });

  it('resets a soft threshold grace period when the signal recovers in between', async () => {
    const pod = testPod('p');
    const h = harness(
      {
        evictionHard: {},
        evictionSoft: { 'memory.available': '1Gi' },
        evictionSoftGracePeriod: { 'memory.available': '30s' },
      },
      [pod],
    );
    h.setSummary(summary({ memoryAvailable: 512 * Mi }, [podStats(pod, 1)]));
    await h.manager.synchronize();
    h.clock.advance(20_000);
    h.setSummary(summary({ memoryAvailable: 2 * Gi }, [podStats(pod, 1)]));
    await h.manager.synchronize();
    h.clock.advance(20_000);
    h.setSummary(summary({ memoryAvailable: 512 * Mi }, [podStats(pod, 1)]));
    expect(await h.manager.synchronize()).toBeUndefined();
    expect(h.evicted).toEqual([]);
  });

  it('keeps the pressure condition for the transition period after the signal recovers', async () => {
    const h = harness({ evictionPressureTransitionPeriod: '5m' }, []);
    h.setSummary(summary({ nodefsAvailable: 5 * Gi }));
    await h.manager.synchronize();
    expect(h.manager.pressure().diskPressure).toBe(true);
    h.setSummary(summary({}));
    h.clock.advance(4 * 60_000);
    await h.manager.synchronize();
    expect(h.manager.pressure().diskPressure).toBe(true);
    h.clock.advance(60_000);
    await h.manager.synchronize();
    expect(h.manager.pressure().diskPressure).toBe(false);
  });

  it('tries node-level reclaim first on disk pressure and evicts only if that is not enough', async () => {
    const pod = testPod('p');
    const freed = harness({}, [pod], {
      reclaim: (h) => h.setSummary(summary({ nodefsAvailable: 30 * Gi }, [podStats(pod, 1)])),
    });
    freed.setSummary(summary({ nodefsAvailable: 5 * Gi }, [podStats(pod, 1)]));
    expect(await freed.manager.synchronize()).toBeUndefined();
    expect(freed.reclaims).toBe(1);
    expect(freed.evicted).toEqual([]);

    const stuck = harness({}, [pod], { reclaim: () => undefined });
    stuck.setSummary(
      summary({ nodefsAvailable: 5 * Gi }, [
        podStats(pod, 1, { 'ephemeral-storage': { time, usedBytes: Gi } }),
      ]),
    );
    expect(await stuck.manager.synchronize()).toBe(pod);
    expect(stuck.reclaims).toBe(1);
    expect(stuck.evicted[0]!.message).toBe(
      // 10% of 100Gi through upstream's float32 percentage: 10737418400, not 10Gi.
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10737418400, available: 5Gi. ',
    );
  });

  it('never evicts critical pods', async () => {
    const critical = makePod(
      { containers: [{ name: 'app' }] },
      { name: 'static', uid: 'uid-static', annotations: { 'kubernetes.io/config.source': 'file' } },
    );
    const system = testPod('system', { priority: 2_000_001_000 });
    expect(isCriticalPod(critical) && isCriticalPod(system)).toBe(true);
    const h = harness({}, [critical, system]);
    h.setSummary(summary({ memoryAvailable: 10 * Mi }, [podStats(critical, Gi), podStats(system, Gi)]));
    expect(await h.manager.synchronize()).toBeUndefined();
    expect(h.evicted).toEqual([]);
  });

  it('admission: memory pressure rejects only best-effort pods unless they tolerate the taint', async () => {
    const h = harness({}, []);
    expect(h.manager.admit(testPod('any'))).toEqual({ admit: true });
    h.setSummary(summary({ memoryAvailable: 10 * Mi }));
    await h.manager.synchronize();
    expect(h.manager.admit(testPod('burstable', { memoryRequest: '10Mi' }))).toEqual({ admit: true });
    expect(h.manager.admit(testPod('besteffort'))).toEqual({
      admit: false,
      reason: 'Evicted',
      message: 'The node had condition: [MemoryPressure]. ',
    });
    const tolerant = makePod(
      {
        containers: [{ name: 'app' }],
        tolerations: [
          { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
        ],
      } as never,
      { uid: 'tolerant' },
    );
    expect(h.manager.admit(tolerant)).toEqual({ admit: true });
  });

  it('admission: disk pressure rejects every non-critical pod', async () => {
    const h = harness({}, []);
    h.setSummary(summary({ memoryAvailable: 10 * Mi, nodefsAvailable: Gi }));
    await h.manager.synchronize();
    expect(h.manager.admit(testPod('guaranteed', { guaranteed: true }))).toMatchObject({
      admit: false,
      message: 'The node had condition: [MemoryPressure DiskPressure]. ',
    });
  });
});

/** A pod whose app container has an ephemeral-storage limit, and optionally an emptyDir with a sizeLimit. */
function storagePod(
  name: string,
  options: { limit?: string; sizeLimit?: string; priority?: number } = {},
): Pod {
  return makePod(
    {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ...(options.limit ? { resources: { limits: { 'ephemeral-storage': options.limit } } } : {}),
        },
      ],
      ...(options.sizeLimit
        ? { volumes: [{ name: 'cache', emptyDir: { sizeLimit: options.sizeLimit } }] }
        : {}),
      priority: options.priority,
    },
    { name, uid: `uid-${name}` },
  );
}

/** Stats of a storage pod: its whole ephemeral storage, its app container's logs and layer, the cache volume. */
function storageStats(
  pod: Pod,
  use: { pod?: number; logs?: number; rootfs?: number; cache?: number },
): PodStats {
  return {
    ...podStats(pod, Mi),
    containers: [
      {
        name: 'app',
        startTime: time,
        logs: { time, usedBytes: use.logs ?? 0 },
        rootfs: { time, usedBytes: use.rootfs ?? 0 },
      },
    ],
    ...(use.pod !== undefined ? { 'ephemeral-storage': { time, usedBytes: use.pod } } : {}),
    ...(use.cache !== undefined ? { volume: [{ name: 'cache', time, usedBytes: use.cache }] } : {}),
  };
}

describe('local storage limits (localStorageCapacityIsolation)', () => {
  it('evicts a pod over its ephemeral-storage limit with plenty of disk free, and with the field false does not', async () => {
    const pod = storagePod('hog', { limit: '1Gi' });
    const calm = storagePod('calm', { limit: '1Gi' });
    const stats = summary({}, [storageStats(pod, { pod: 2 * Gi }), storageStats(calm, { pod: 100 * Mi })]);

    const on = harness({}, [pod, calm]);
    on.setSummary(stats);
    expect(await on.manager.synchronize()).toBe(pod);
    expect(on.evicted).toEqual([
      {
        pod,
        grace: 1,
        reason: 'Evicted',
        message: 'Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ',
        disruptionTarget: false,
      },
    ]);
    expect(on.signals).toEqual(['ephemeralpodfs.limit']);
    // No node-level pressure came of it.
    expect(on.manager.pressure().diskPressure).toBe(false);

    const off = harness({}, [pod, calm], { localStorageCapacityIsolation: false });
    off.setSummary(stats);
    expect(await off.manager.synchronize()).toBeUndefined();
    expect(off.evicted).toEqual([]);
  });

  it('evicts for an emptyDir over its sizeLimit and for a container over its own limit, in upstream order', async () => {
    const cache = storagePod('cache', { sizeLimit: '100Mi', limit: '10Gi' });
    const chatty = storagePod('chatty', { limit: '500Mi' });
    const within = storagePod('within', { sizeLimit: '1Gi', limit: '1Gi' });
    const h = harness({}, [cache, chatty, within]);
    h.setSummary(
      summary({}, [
        // Over its sizeLimit and over its pod limit: the emptyDir is named, as upstream checks it first.
        storageStats(cache, { cache: 200 * Mi, pod: 20 * Gi }),
        // Logs and writable layer together pass the container's limit; the pod figure is not known.
        storageStats(chatty, { logs: 100 * Mi, rootfs: 450 * Mi }),
        storageStats(within, { cache: 500 * Mi, pod: 900 * Mi, logs: 100 * Mi, rootfs: 100 * Mi }),
      ]),
    );
    // Every pod over a limit goes in the same pass; the first is returned.
    expect(await h.manager.synchronize()).toBe(cache);
    expect(h.evicted.map((e) => [e.pod.metadata.name, e.message, e.grace])).toEqual([
      ['cache', 'Usage of EmptyDir volume "cache" exceeds the limit "100Mi". ', 1],
      ['chatty', 'Container app exceeded its local ephemeral storage limit "500Mi". ', 1],
    ]);
    expect(h.signals).toEqual(['emptydirfs.limit', 'ephemeralcontainerfs.limit']);

    const off = harness({}, [cache, chatty, within], { localStorageCapacityIsolation: false });
    off.setSummary(
      summary({}, [storageStats(cache, { cache: 200 * Mi }), storageStats(chatty, { logs: Gi })]),
    );
    expect(await off.manager.synchronize()).toBeUndefined();
    expect(off.evicted).toEqual([]);
  });

  it('never evicts a critical pod for its local storage', async () => {
    const system = storagePod('system', { limit: '1Gi', priority: 2_000_001_000 });
    const h = harness({}, [system]);
    h.setSummary(summary({}, [storageStats(system, { pod: 5 * Gi })]));
    expect(await h.manager.synchronize()).toBeUndefined();
    expect(h.evicted).toEqual([]);
  });

  it('with the field false, node-level disk thresholds still evict, and a pass without thresholds reads nothing', async () => {
    const pod = storagePod('p', { limit: '1Gi' });
    const off = harness({}, [pod], { localStorageCapacityIsolation: false, reclaim: () => undefined });
    off.setSummary(summary({ nodefsAvailable: 5 * Gi }, [storageStats(pod, { pod: 2 * Gi })]));
    expect(await off.manager.synchronize()).toBe(pod);
    expect(off.signals).toEqual(['nodefs.available']);
    expect(off.evicted[0]!.message).toMatch(/^The node was low on resource: ephemeral-storage\. /);
    expect(off.evicted[0]!.disruptionTarget).toBeUndefined();
    expect(off.manager.pressure().diskPressure).toBe(true);

    // Upstream synchronize: nothing to do without thresholds unless local storage is isolated.
    const idle = harness({ evictionHard: {} }, [pod], { localStorageCapacityIsolation: false });
    idle.setSummary(summary({}, [storageStats(pod, { pod: 2 * Gi })]));
    expect(await idle.manager.synchronize()).toBeUndefined();
    expect(idle.summaries).toBe(0);
    const busy = harness({ evictionHard: {} }, [pod]);
    busy.setSummary(summary({}, [storageStats(pod, { pod: 2 * Gi })]));
    expect(await busy.manager.synchronize()).toBe(pod);
    expect(busy.summaries).toBe(1);
  });
});

describe('KubeletConfiguration validation of housekeeping fields', () => {
  it('rejects unknown minimum-reclaim signals, bad quantities and a relative cgroupRoot', () => {
    expect(() => parseKubeletConfiguration({ evictionMinimumReclaim: { 'memory.free': '1Gi' } })).toThrow(
      /evictionMinimumReclaim\[memory\.free\]/,
    );
    expect(() => parseKubeletConfiguration({ evictionMinimumReclaim: { 'memory.available': 'x' } })).toThrow(
      InvalidConfigError,
    );
    expect(() => parseKubeletConfiguration({ cgroupRoot: 'kube' })).toThrow(/cgroupRoot/);
    expect(
      parseKubeletConfiguration({ cgroupRoot: 'kube.slice', cgroupDriver: 'systemd' }).config.cgroupRoot,
    ).toBe('kube.slice');
  });
});
