import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { systemClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { FsImagePullRecords } from '../../src/images/fs-image-pull-records';
import { imagePullManagerFromConfig } from '../../src/images/image-pull-manager-from-config';
import { credentialHash } from '../../src/images/tracked-pull-credentials';
import { Kubelet } from '../../src/kubelet';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';

// The "private" image here is containerd's locally imported busybox, with the pulled record the
// kubelet writes after a pull with a secret put in place by the test: the records' logic without
// a registry. registry-credentials.test.ts runs the same checks against a real private registry.

let containerd: PrivateContainerd;
let client: CriClient;
let dir: string;
let busybox: string;
const kubelets: Kubelet[] = [];
const credential = { username: 'robot', password: 's3cret' };
const secret: Secret = {
  metadata: { name: 'regcred', namespace: 'default', uid: 'uid-regcred' },
  type: 'kubernetes.io/dockerconfigjson',
  data: {
    '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { localhost: credential } })).toString('base64'),
  },
};

async function newKubelet(): Promise<Kubelet> {
  const config = parseKubeletConfiguration({ podLogsDir: join(dir, 'logs') }).config;
  const rootDir = join(dir, 'root');
  const imagePullManager = await imagePullManagerFromConfig(config, {
    rootDir,
    listImages: async () => (await client.listImages({})).images,
    clock: systemClock,
  });
  const kubelet = new Kubelet({
    nodeName: 'node-real',
    runtime: criPodRuntime(client),
    config,
    rootDir,
    hostIPs: ['192.168.71.2'],
    memoryCapacity: 2 * 1024 ** 3,
    objects: {
      getConfigMap: async () => undefined,
      getSecret: async (ns, name) => (ns === 'default' && name === 'regcred' ? secret : undefined),
    },
    imagePullManager,
    relistPeriodMs: 200,
    retryMs: 500,
  });
  kubelets.push(kubelet);
  await kubelet.start();
  return kubelet;
}

let podCount = 0;
function pod(imagePullPolicy: 'Never' | 'IfNotPresent', withSecret: boolean): Pod {
  podCount++;
  return {
    metadata: {
      name: `verified-${podCount}`,
      namespace: 'default',
      uid: `verified-${process.pid}-${podCount}`,
    },
    spec: {
      imagePullSecrets: withSecret ? [{ name: 'regcred' }] : [],
      containers: [{ name: 'app', image: busybox, imagePullPolicy, command: ['sh', '-c', 'sleep 3600'] }],
      terminationGracePeriodSeconds: 2,
    },
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const waitingReason = (kubelet: Kubelet, p: Pod) =>
  kubelet.getPodStatus(p.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-verified-real-${process.pid}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  const { image } = await client.imageStatus({ image: { image: busybox } });
  const records = new FsImagePullRecords(join(dir, 'root'));
  await records.init();
  await records.writePulled({
    lastUpdatedTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    imageRef: image!.id,
    credentialMapping: {
      [busybox.replace(/:[^:/]+$/, '')]: {
        kubernetesSecrets: [
          {
            uid: 'uid-regcred',
            namespace: 'default',
            name: 'regcred',
            credentialHash: credentialHash(credential),
          },
        ],
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets, client, containerd, dir });
}, 180_000);

describe('verified image pulls on a real containerd', () => {
  it('a pod without the recorded secret cannot use the image (Never: ErrImageNeverPull, IfNotPresent: pulls and fails), the pod with it runs — also after a restart', async () => {
    for (const round of ['first kubelet', 'restarted kubelet']) {
      const kubelet = await newKubelet();
      const never = pod('Never', false);
      kubelet.addPod(never);
      const waiting = await waitFor(`${round}: ErrImageNeverPull`, () => waitingReason(kubelet, never));
      expect(waiting).toEqual({
        reason: 'ErrImageNeverPull',
        message: `Container image "${busybox}" is not present with pull policy of Never`,
      });
      const ifNotPresent = pod('IfNotPresent', false);
      kubelet.addPod(ifNotPresent);
      const pullFailure = await waitFor(`${round}: a failed pull`, () => {
        const w = waitingReason(kubelet, ifNotPresent);
        return w && /^(ErrImagePull|ImagePullBackOff)$/.test(w.reason ?? '') ? w : undefined;
      });
      expect(pullFailure.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
      const allowed = pod('Never', true);
      kubelet.addPod(allowed);
      await waitFor(
        `${round}: Running`,
        () => kubelet.getPodStatus(allowed.metadata.uid!)?.phase === 'Running',
      );
      for (const p of [never, ifNotPresent, allowed]) kubelet.removePod(p);
      await kubelet.settle();
      await kubelet.stop();
    }
  }, 240_000);
});
