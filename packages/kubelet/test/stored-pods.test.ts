import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ConfigMap, Pod, Secret } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { resolveEnv } from '../src/env/resolve-env';
import { Kubelet } from '../src/kubelet';
import { RecordingMounter } from '../src/volumes/mounter';
import { volumePluginDirs } from '../src/volumes/pod-volume-manager';

/**
 * Every pod a real v1.32 API server stored (pods-v1.32/pods.yaml), handed to the kubelet exactly
 * as written, on the fake runtime: volumes set up (divisor "0", item modes, the projected
 * service-account volume), env resolved, every container created. The fake runs only a tiny
 * shell, so what the containers print is checked on containerd (test/real/stored-pods).
 */

const IMAGE = 'localhost/busybox:1';
const envByContainer = new Map<string, Record<string, string>>();
let dir: string;
let fake: FakeRuntime;
let client: CriClient;
let kubelet: Kubelet;

function recordingRuntime(inner: PodRuntime): PodRuntime {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'createContainer') {
        return async (...args: Parameters<PodRuntime['createContainer']>) => {
          const [, config, sandbox] = args;
          const key = `${sandbox.metadata?.name}/${config.metadata?.name}`;
          envByContainer.set(key, Object.fromEntries((config.envs ?? []).map((e) => [e.key, e.value])));
          return target.createContainer(...args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-stored-${process.pid}-`));
  // localhost/does-not-exist:1 is missing on purpose (badimage, imagePullPolicy Never).
  fake = await FakeRuntime.start({ images: [{ ref: IMAGE }, { ref: 'localhost/nodeagent/pause:3.10' }] });
  client = await createCriClient({ endpoint: fake.endpoint });
  const configMaps = new Map<string, ConfigMap>();
  const cm = (name: string, data: Record<string, string>) =>
    configMaps.set(`stored/${name}`, { metadata: { name, namespace: 'stored' }, data });
  cm('kube-root-ca.crt', { 'ca.crt': 'ROOT CA' });
  cm('openshift-service-ca.crt', { 'service-ca.crt': 'SERVICE CA' });
  cm('cfg', { 'app.conf': 'mode=fast' });
  const secret: Secret = {
    metadata: { name: 'sec', namespace: 'stored' },
    data: { password: Buffer.from('s3cret').toString('base64') },
  };
  kubelet = new Kubelet({
    node: {
      name: 'n-stored',
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.50.2'],
      memoryCapacity: 4 * 1024 ** 3,
      allocatable: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi', pods: '110' },
    },
    runtime: recordingRuntime(criPodRuntime(client)),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    api: {
      objects: {
        getConfigMap: async (ns, name) => configMaps.get(`${ns}/${name}`),
        getSecret: async (ns, name) => (ns === 'stored' && name === 'sec' ? secret : undefined),
      },
      tokens: { getToken: async ({ boundPod }) => `token-for-${boundPod.name}` },
    },
    pacing: {
      clock: new FakeClock(Date.now()),
      // The test drives syncs itself.
      relistPeriodMs: 3_600_000,
      retryMs: 3_600_000,
      sleep: async () => {},
    },
    mounter: new RecordingMounter(),
  });
  await kubelet.start();
});

afterAll(async () => {
  await kubelet?.stop();
  client?.close();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The recorded fixture in the repository's fidelity/ (a byte-identical copy, never edited). */
const STORED_PODS = new URL('../../../fidelity/pods-v1.32/pods.yaml', import.meta.url);
const pods = parseAllDocuments(readFileSync(STORED_PODS, 'utf8')).map((d) => d.toJS() as Pod);

function volumeDir(pod: Pod, plugin: keyof typeof volumePluginDirs, name: string): string {
  return join(dir, 'root', 'pods', pod.metadata.uid!, 'volumes', volumePluginDirs[plugin], name);
}

describe('the kubelet runs every pod a real v1.32 API server stored, as written', () => {
  for (const pod of pods) {
    it(`handles ${pod.metadata.name}`, async () => {
      kubelet.addPod(structuredClone(pod));
      await kubelet.settle();
      const status = kubelet.getPodStatus(pod.metadata.uid!)!;
      const name = pod.metadata.name!;
      const all = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
      if (name === 'sec-unsafe-sysctl') {
        // kernel.msgmax is not in the safe set and no --allowed-unsafe-sysctls: refused at admission.
        expect(status).toMatchObject({ phase: 'Failed', reason: 'SysctlForbidden' });
        return;
      }
      if (name === 'nonroot' || name === 'sec-nonroot') {
        // runAsNonRoot without runAsUser on an image that runs as root: refused like upstream.
        expect(all[0]!.state.waiting).toMatchObject({
          reason: 'CreateContainerConfigError',
          message: expect.stringContaining('runAsNonRoot and image will run as root'),
        });
      } else {
        // Nothing the kubelet refused: no volume, config or validation failure.
        for (const s of all)
          expect(['CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName']).not.toContain(
            s.state.waiting?.reason,
          );
        expect(status.phase).not.toBe('Failed');
      }
      if (name === 'badimage') {
        expect(status.containerStatuses![0]!.state.waiting?.reason).toBe('ErrImageNeverPull');
      } else if (name !== 'nonroot' && name !== 'sec-nonroot') {
        // The pod's first container reached CreateContainer.
        const first = pod.spec.initContainers?.[0]?.name ?? pod.spec.containers[0]!.name;
        expect(envByContainer.has(`${name}/${first}`)).toBe(true);
      }
      if (status.phase === 'Succeeded') return; // its volumes are already torn down
      const sa = volumeDir(pod, 'projected', pod.spec.volumes!.at(-1)!.name);
      expect(await readFile(join(sa, 'token'), 'utf8')).toBe(`token-for-${name}`);
      expect(await readFile(join(sa, 'namespace'), 'utf8')).toBe('stored');
      expect(await readFile(join(sa, 'ca.crt'), 'utf8')).toBe('ROOT CA');
      expect(await readFile(join(sa, 'service-ca.crt'), 'utf8')).toBe('SERVICE CA');
      expect((await stat(join(sa, 'ca.crt'))).mode & 0o777).toBe(0o644);
    });
  }

  it('writes the downward API volume with divisor "0" as 1, item mode and defaultMode', async () => {
    const pod = pods.find((p) => p.metadata.name === 'downward-volume')!;
    const dir = volumeDir(pod, 'downwardAPI', 'podinfo');
    // limits.cpu 500m with divisor "0" (= 1): ceil(0.5) = 1; limits.memory 64Mi with divisor 1Mi.
    expect(await readFile(join(dir, 'cpu_limit'), 'utf8')).toBe('1');
    expect(await readFile(join(dir, 'mem_limit'), 'utf8')).toBe('64');
    expect(await readFile(join(dir, 'name'), 'utf8')).toBe('downward-volume');
    expect(await readFile(join(dir, 'labels'), 'utf8')).toBe('');
    expect((await stat(join(dir, 'name'))).mode & 0o777).toBe(0o444);
    for (const file of ['cpu_limit', 'mem_limit', 'labels'])
      expect((await stat(join(dir, file))).mode & 0o777).toBe(0o400);
  });

  it('resolves the env of the full pod: fieldRefs with apiVersion v1 and a 1m divisor', async () => {
    const pod = pods.find((p) => p.metadata.name === 'full')!;
    const env = await resolveEnv(pod, pod.spec.containers[0]!, {
      objects: { getConfigMap: async () => undefined, getSecret: async () => undefined },
      nodeName: 'n-stored',
    });
    expect(Object.fromEntries(env.map((e) => [e.key, e.value]))).toEqual({
      'MY_n-stored': 'n-stored',
      MY_POD: 'full',
      CPU_LIMIT: '200',
    });
  });
});
