import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import type { ConfigMap, Pod, PodStatus, Secret } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { Kubelet, type KubeletOptions } from '../../src/kubelet';
import { type KubeletOverrides, withOverrides } from './kubelet-overrides';

export type { KubeletOverrides };

import type { PodStatusWriter } from '../../src/status/status-manager';
import { RecordingMounter } from '../../src/volumes/mounter';

/** The configuration's default volumePluginDir: the host's, which a test kubelet never uses. */
const HOST_VOLUME_PLUGIN_DIR = parseKubeletConfiguration({}).config.volumePluginDir;

export const busybox = 'localhost/nodeagent/busybox:1.0';

/** Records what the kubelet would send to the API server. */
export class RecordingWriter implements PodStatusWriter {
  readonly patches: { uid: string; status: PodStatus }[] = [];
  readonly deleted: string[] = [];

  async patchStatus(pod: Pod, status: PodStatus): Promise<void> {
    this.patches.push({ uid: pod.metadata.uid ?? '', status: structuredClone(status) });
  }

  async deletePod(pod: Pod): Promise<void> {
    this.deleted.push(pod.metadata.uid ?? '');
  }

  last(uid: string): PodStatus | undefined {
    return this.patches.filter((p) => p.uid === uid).at(-1)?.status;
  }
}

export interface EngineHarness {
  fake: FakeRuntime;
  client: CriClient;
  kubelet: Kubelet;
  clock: FakeClock;
  writer: RecordingWriter;
  configMaps: Map<string, ConfigMap>;
  secrets: Map<string, Secret>;
  dir: string;
  /** A second kubelet on the same runtime and state (a restart after kill -9). */
  restart(): Promise<Kubelet>;
  /**
   * settle(), then relist until a relist changes nothing. A container's exit reaches the kubelet
   * through the runtime's event stream or the periodic relist, and either may still be on its
   * way when the workers go idle: on a busy machine a crash-loop test saw the restart only after
   * settle() returned. Two relists a round, since the first may join one that listed before the
   * exit. For tests that wait on exits; the pod-start tests count relists and use settle().
   */
  settleThroughRelists(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The engine on a fresh fake runtime. With `runtimeOnFakeClock`, the runtime's timestamps
 * (startedAt, finishedAt) come from the kubelet's FakeClock too, so back-off times are exact.
 */
export async function startEngine(
  overrides: KubeletOverrides = {},
  options: {
    runtimeOnFakeClock?: boolean;
    /**
     * The runtime's timestamps run this far behind real time (where the engine's clock starts):
     * containers look started that long before the kubelet, as after a kubelet restart.
     */
    runtimeBehindMs?: number;
  } = {},
): Promise<EngineHarness> {
  const dir = await mkdtemp(join(tmpdir(), `na-kubelet-engine-${process.pid}-`));
  const clock = new FakeClock(Date.now());
  const fake = await FakeRuntime.start({
    images: [{ ref: busybox }, { ref: 'localhost/nodeagent/pause:3.10' }],
    ...(options.runtimeOnFakeClock ? { now: () => BigInt(clock.now()) * 1_000_000n } : {}),
    ...(options.runtimeBehindMs
      ? { now: () => BigInt(Date.now() - (options.runtimeBehindMs ?? 0)) * 1_000_000n }
      : {}),
  });
  const client = await createCriClient({ endpoint: fake.endpoint });
  const writer = new RecordingWriter();
  const configMaps = new Map<string, ConfigMap>();
  const secrets = new Map<string, Secret>();
  const kubelets: Kubelet[] = [];
  const make = () => {
    const base: KubeletOptions = {
      node: {
        name: 'node-a',
        rootDir: join(dir, 'root'),
        hostIPs: ['192.168.50.2'],
        memoryCapacity: 4 * 1024 ** 3,
      },
      runtime: criPodRuntime(client),
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs'),
        clusterDNS: ['10.96.0.10'],
        clusterDomain: 'cluster.local',
      }).config,
      api: {
        objects: {
          getConfigMap: async (ns, name) => configMaps.get(`${ns}/${name}`),
          getSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
        },
        statusWriter: writer,
      },
      pacing: {
        clock,
        // Tests drive relists and resyncs themselves.
        relistPeriodMs: 3_600_000,
        retryMs: 3_600_000,
        sleep: async () => {},
      },
      mounter: new RecordingMounter(),
    };
    const options = withOverrides(base, overrides);
    // FlexVolume's directory is made at start: the run's own, never the host's default.
    if (options.config.volumePluginDir === HOST_VOLUME_PLUGIN_DIR)
      options.config = { ...options.config, volumePluginDir: join(dir, 'volume-plugins') };
    const kubelet = new Kubelet(options);
    kubelets.push(kubelet);
    return kubelet;
  };
  const kubelet = make();
  await kubelet.start();
  return {
    fake,
    client,
    kubelet,
    clock,
    writer,
    configMaps,
    secrets,
    dir,
    async restart() {
      const next = make();
      await next.start();
      return next;
    },
    async settleThroughRelists() {
      const fingerprint = async () => {
        const { containers } = await client.listContainers({});
        return JSON.stringify([writer.patches.length, containers.map((c) => [c.id, c.state])]);
      };
      for (let round = 0; round < 10; round++) {
        await kubelet.settle();
        const before = await fingerprint();
        await kubelet.pleg.relist();
        await kubelet.pleg.relist();
        await kubelet.settle();
        if ((await fingerprint()) === before) return;
      }
      throw new Error('settleThroughRelists: the pods still change after 10 relists');
    },
    async close() {
      for (const k of kubelets) await k.stop();
      client.close();
      await fake.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let podCounter = 0;
export function testPod(spec: Partial<Pod['spec']> = {}, name?: string): Pod {
  podCounter++;
  return {
    metadata: {
      name: name ?? `pod-${podCounter}`,
      namespace: 'default',
      uid: `uid-${process.pid}-${podCounter}`,
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
      terminationGracePeriodSeconds: 5,
      ...spec,
    },
  };
}
