import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../src/api/pod-types';
import { ImagePullManager } from '../src/images/image-pull-manager';
import { imagePullVerificationPolicy } from '../src/images/image-pull-verification-policy';
import type { Kubelet } from '../src/kubelet';
import { type EngineHarness, type KubeletOverrides, startEngine, testPod } from './helpers/engine';

const privateImage = 'registry.example.com/team/app:1';

function regcred(): Secret {
  const config = { auths: { 'registry.example.com': { username: 'robot', password: 's3cret' } } };
  return {
    metadata: { name: 'regcred', namespace: 'default', uid: 'uid-regcred' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  } as Secret;
}

function privatePod(name: string, imagePullPolicy: 'IfNotPresent' | 'Never', withSecret: boolean): Pod {
  return testPod(
    {
      imagePullSecrets: withSecret ? [{ name: 'regcred' }] : [],
      containers: [
        { name: 'app', image: privateImage, imagePullPolicy, command: ['sh', '-c', 'sleep 3600'] },
      ],
    },
    name,
  );
}

async function settle(kubelet: Kubelet) {
  await kubelet.settle();
  await kubelet.pleg.relist();
  await kubelet.settle();
}

const waiting = (kubelet: Kubelet, pod: Pod) =>
  kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;

describe('verified image pulls across a kubelet restart (engine on the fake CRI)', () => {
  it('after a restart, a second pod without the credentials cannot use the private image the first pod pulled', async () => {
    const recordsRoot = await mkdtemp(join(tmpdir(), `na-verified-restart-${process.pid}-`));
    let h: EngineHarness | undefined;
    const managerOverRecords = () =>
      ImagePullManager.create({
        rootDir: recordsRoot,
        policy: imagePullVerificationPolicy('NeverVerifyPreloadedImages', []),
        listImages: async () => (h ? (await h.client.listImages({})).images : []),
        clock: { now: () => Date.now(), setTimeout, clearTimeout },
      });
    const overrides: KubeletOverrides = { images: { pullManager: await managerOverRecords() } };
    try {
      h = await startEngine(overrides);
      h.fake.addRegistryImage({ ref: privateImage, auth: { username: 'robot', password: 's3cret' } });
      h.secrets.set('default/regcred', regcred());

      const first = privatePod('first', 'IfNotPresent', true);
      h.kubelet.addPod(first);
      await h.settleThroughRelists();
      expect(h.kubelet.getPodStatus(first.metadata.uid!)?.phase).toBe('Running');

      // kill -9 and start again: a new kubelet with a new manager reading only the files.
      await h.kubelet.stop();
      overrides.images = { pullManager: await managerOverRecords() };
      const next = await h.restart();

      const never = privatePod('second-never', 'Never', false);
      next.addPod(never);
      await settle(next);
      expect(waiting(next, never)).toEqual({
        reason: 'ErrImageNeverPull',
        message: `Container image "${privateImage}" is not present with pull policy of Never`,
      });

      const ifNotPresent = privatePod('second-ifnotpresent', 'IfNotPresent', false);
      next.addPod(ifNotPresent);
      await settle(next);
      expect(waiting(next, ifNotPresent)?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);

      const withSecret = privatePod('third-with-secret', 'Never', true);
      next.addPod(withSecret);
      await settle(next);
      expect(next.getPodStatus(withSecret.metadata.uid!)?.phase).toBe('Running');
    } finally {
      await h?.close();
      await rm(recordsRoot, { recursive: true, force: true });
    }
  });
});
