import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../../src/api/pod-types';
import { FsImagePullRecords } from '../../src/images/fs-image-pull-records';
import { credentialHash } from '../../src/images/tracked-pull-credentials';
import type { Kubelet } from '../../src/kubelet';
import { waitFor } from '../helpers/wait-for';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';
import { firstContainerWaiting, sleepingPod, startPullCheckingKubelet } from './pull-checking-kubelet';

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

const newKubelet = () =>
  startPullCheckingKubelet({
    client,
    dir,
    nodeName: 'node-real',
    hostIP: '192.168.71.2',
    getSecret: (ns, name) => (ns === 'default' && name === 'regcred' ? secret : undefined),
    started: kubelets,
  });

let podCount = 0;
function pod(imagePullPolicy: 'Never' | 'IfNotPresent', withSecret: boolean): Pod {
  podCount++;
  return sleepingPod({
    name: `verified-${podCount}`,
    uid: `verified-${process.pid}-${podCount}`,
    image: busybox,
    imagePullPolicy,
    imagePullSecrets: withSecret ? ['regcred'] : [],
  });
}

/** A hang guard for each wait. */
const WAIT_MS = 60_000;

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
      // The first status, written before the sandbox (as upstream's SyncPod), says ContainerCreating.
      const waiting = await waitFor(
        `${round}: ErrImageNeverPull`,
        () => {
          const w = firstContainerWaiting(kubelet, never);
          return w?.reason === 'ErrImageNeverPull' ? w : undefined;
        },
        WAIT_MS,
      );
      expect(waiting).toEqual({
        reason: 'ErrImageNeverPull',
        message: `Container image "${busybox}" is not present with pull policy of Never`,
      });
      const ifNotPresent = pod('IfNotPresent', false);
      kubelet.addPod(ifNotPresent);
      const pullFailure = await waitFor(
        `${round}: a failed pull`,
        () => {
          const w = firstContainerWaiting(kubelet, ifNotPresent);
          return w && /^(ErrImagePull|ImagePullBackOff)$/.test(w.reason ?? '') ? w : undefined;
        },
        WAIT_MS,
      );
      expect(pullFailure.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
      const allowed = pod('Never', true);
      kubelet.addPod(allowed);
      await waitFor(
        `${round}: Running`,
        () => kubelet.getPodStatus(allowed.metadata.uid!)?.phase === 'Running',
        WAIT_MS,
      );
      for (const p of [never, ifNotPresent, allowed]) kubelet.removePod(p);
      await kubelet.settle();
      await kubelet.stop();
    }
  }, 240_000);
});
