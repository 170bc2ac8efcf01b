import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../src/api/pod-types';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { ImageCredentialProviders } from '../src/images/credential-provider/image-credential-providers';
import { CrashLoopBackOff } from '../src/pod/crash-loop-backoff';
import { ensureImage } from '../src/sync/image-puller';
import { pullCredentialsFor } from '../src/sync/pull-secrets';
import { startEngine, testPod } from './helpers/engine';
import { writeFakeProvider } from './helpers/fake-credential-provider';
import { type PullAuth, recordPullAuths } from './helpers/pull-auth-recorder';

const image = 'registry.example.com/team/app:1';
const sandboxConfig = { metadata: { name: 'web', namespace: 'team', uid: 'uid-web', attempt: 0 } };

let dir: string;
let fake: FakeRuntime;
let client: CriClient;
let clock: FakeClock;
/** The auth of every CRI PullImage request, as the fake runtime received it. */
let pullAuths: PullAuth[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-credprov-pull-${process.pid}-`));
  clock = new FakeClock(1_000_000);
  fake = await FakeRuntime.start({ images: [] });
  fake.addRegistryImage({ ref: image, auth: { username: 'robot', password: 'from-provider' } });
  client = await createCriClient({ endpoint: fake.endpoint });
  pullAuths = recordPullAuths(client);
});
afterEach(async () => {
  client.close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function pod(imagePullSecrets: string[] = []): Pod {
  return {
    metadata: { name: 'web', namespace: 'team', uid: 'uid-web' },
    spec: {
      serviceAccountName: 'builder',
      imagePullSecrets: imagePullSecrets.map((name) => ({ name })),
      containers: [{ name: 'app', image, imagePullPolicy: 'Always' }],
    },
  } as Pod;
}

function dockerSecret(username: string, password: string): Secret {
  const config = { auths: { 'registry.example.com': { username, password } } };
  return {
    metadata: { name: 'regcred', namespace: 'team' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  } as Secret;
}

async function providerSet(username: string, password: string) {
  const binDir = join(dir, 'bin');
  const plugin = await writeFakeProvider(binDir, 'registry-login');
  await plugin.respond({
    cacheKeyType: 'Registry',
    cacheDuration: '1h',
    auth: { 'registry.example.com': { username, password } },
  });
  const set = ImageCredentialProviders.fromConfig(
    {
      providers: [
        {
          name: 'registry-login',
          matchImages: ['*.example.com'],
          defaultCacheDurationMs: 0,
          apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
          args: [],
          env: [],
        },
      ],
    },
    { binDir, clock },
  );
  return { set, plugin };
}

function pull(target: Pod, secrets: Secret[], providers?: ImageCredentialProviders) {
  return ensureImage(
    criPodRuntime(client),
    target,
    target.spec.containers[0]!,
    pullCredentialsFor(image, target, secrets, providers),
    sandboxConfig,
    new CrashLoopBackOff({ clock }),
    clock,
  );
}

describe('credential provider credentials in CRI PullImage', () => {
  it('passes the provider credentials as PullImage auth, asking the plugin about the repository without tag', async () => {
    const { set, plugin } = await providerSet('robot', 'from-provider');
    await expect(pull(pod(), [], set)).resolves.toMatch(/^sha256:/);
    expect(pullAuths).toEqual([{ username: 'robot', password: 'from-provider' }]);
    expect((await plugin.calls()).map((c) => c.request.image)).toEqual(['registry.example.com/team/app']);
  });

  it('tries the pull secrets first and the provider credentials after them', async () => {
    const { set } = await providerSet('robot', 'from-provider');
    const target = pod(['regcred']);
    await expect(pull(target, [dockerSecret('robot', 'stale-secret')], set)).resolves.toMatch(/^sha256:/);
    expect(pullAuths).toEqual([
      { username: 'robot', password: 'stale-secret' },
      { username: 'robot', password: 'from-provider' },
    ]);
  });

  it('fails the pull as upstream (ErrImagePull, every attempt failing alike) when no credential works', async () => {
    const { set } = await providerSet('robot', 'wrong');
    await expect(pull(pod(['regcred']), [dockerSecret('robot', 'also-wrong')], set)).rejects.toMatchObject({
      code: 'ErrImagePull',
      message: expect.stringMatching(/^rpc error: code = \w+ desc = [^[].*401 Unauthorized$/),
    });
    expect(pullAuths).toHaveLength(2);
  });

  it('pulls without auth when neither secrets nor providers have credentials for the image', async () => {
    await expect(pull(pod(), [])).rejects.toMatchObject({ code: 'ErrImagePull' });
    expect(pullAuths).toEqual([null]);
  });
});

describe('the kubelet with credential providers', () => {
  it('runs a pod whose private image only the provider can pull, and reports ErrImagePull without it', async () => {
    const { set, plugin } = await providerSet('robot', 'from-provider');
    const h = await startEngine({ images: { credentialProviders: set } });
    try {
      h.fake.addRegistryImage({ ref: image, auth: { username: 'robot', password: 'from-provider' } });
      const withProvider = testPod({
        containers: [{ name: 'app', image, command: ['sh', '-c', 'sleep 3600'] }],
      });
      h.kubelet.addPod(withProvider);
      await h.settleThroughRelists();
      expect(h.kubelet.getPodStatus(withProvider.metadata.uid!)?.phase).toBe('Running');
      expect((await plugin.calls()).map((c) => c.request.image)).toEqual(['registry.example.com/team/app']);
    } finally {
      await h.close();
    }
    const without = await startEngine();
    try {
      without.fake.addRegistryImage({ ref: image, auth: { username: 'robot', password: 'from-provider' } });
      const pod = testPod({ containers: [{ name: 'app', image, command: ['sh', '-c', 'sleep 3600'] }] });
      without.kubelet.addPod(pod);
      await without.settleThroughRelists();
      const waiting = without.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;
      expect(waiting?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
    } finally {
      await without.close();
    }
  });
});
