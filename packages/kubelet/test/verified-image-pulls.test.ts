import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../src/api/pod-types';
import { parseAllowlistPattern } from '../src/config/image-allowlist-pattern';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { InvalidConfigError } from '../src/errors';
import { ImageCredentialProviders } from '../src/images/credential-provider/image-credential-providers';
import { ImageGCManager } from '../src/images/image-gc-manager';
import { ImagePullManager } from '../src/images/image-pull-manager';
import { imagePullManagerFromConfig } from '../src/images/image-pull-manager-from-config';
import { decodeImagePulledRecord } from '../src/images/image-pull-records';
import {
  type ImagePullCredentialsVerificationPolicy,
  imagePullVerificationPolicy,
} from '../src/images/image-pull-verification-policy';
import { credentialHash } from '../src/images/tracked-pull-credentials';
import { CrashLoopBackOff } from '../src/pod/crash-loop-backoff';
import { ensureImage } from '../src/sync/image-puller';
import { pullCredentialsFor } from '../src/sync/pull-secrets';
import { writeFakeProvider } from './helpers/fake-credential-provider';
import { type PullAuth, recordPullAuths } from './helpers/pull-auth-recorder';

const privateImage = 'registry.example.com/team/app:1';
const sandboxConfig = { metadata: { name: 'web', namespace: 'team', uid: 'uid-web', attempt: 0 } };
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

let rootDir: string;
let fake: FakeRuntime;
let client: CriClient;
let clock: FakeClock;
/** The auth of every CRI PullImage request, as the fake runtime received it. */
let pullAuths: PullAuth[];

beforeEach(async () => {
  rootDir = await mkdtemp(join(tmpdir(), `na-verified-pulls-${process.pid}-`));
  clock = new FakeClock(Date.parse('2026-11-23T16:00:00Z'));
  fake = await FakeRuntime.start({ images: [] });
  fake.addRegistryImage({
    ref: privateImage,
    id: 'sha256:private',
    auth: { username: 'robot', password: 's3cret' },
  });
  client = await createCriClient({ endpoint: fake.endpoint });
  pullAuths = recordPullAuths(client);
});
afterEach(async () => {
  client.close();
  await fake.stop();
  await rm(rootDir, { recursive: true, force: true });
});

function pod(
  name: string,
  policy: 'IfNotPresent' | 'Never' | 'Always',
  secretNames: string[] = [],
  image = privateImage,
): Pod {
  return {
    metadata: { name, namespace: 'team', uid: `uid-${name}` },
    spec: {
      imagePullSecrets: secretNames.map((n) => ({ name: n })),
      containers: [{ name: 'app', image, imagePullPolicy: policy }],
    },
  } as Pod;
}

function dockerSecret(name: string, uid: string, password = 's3cret'): Secret {
  const config = { auths: { 'registry.example.com': { username: 'robot', password } } };
  return {
    metadata: { name, namespace: 'team', uid },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  } as Secret;
}

async function manager(
  policy: ImagePullCredentialsVerificationPolicy = 'NeverVerifyPreloadedImages',
  allowlist: string[] = [],
) {
  const runtimeImages = async () =>
    (await client.listImages({})).images.map((i) => ({
      id: i.id,
      repoTags: i.repoTags,
      repoDigests: i.repoDigests,
    }));
  return ImagePullManager.create({
    rootDir,
    policy: imagePullVerificationPolicy(policy, allowlist),
    listImages: runtimeImages,
    clock,
  });
}

function ensure(
  target: Pod,
  secrets: Secret[],
  pullManager: ImagePullManager | undefined,
  providers?: ImageCredentialProviders,
) {
  const container = target.spec.containers[0]!;
  return ensureImage(
    criPodRuntime(client),
    target,
    container,
    pullCredentialsFor(container.image!, target, secrets, providers),
    sandboxConfig,
    new CrashLoopBackOff({ clock }),
    clock,
    pullManager,
  );
}

async function pulledRecordFile(imageRef: string) {
  const file = join(rootDir, 'image_manager', 'pulled', `sha256-${sha(imageRef)}`);
  return { file, text: await readFile(file, 'utf8') };
}

describe('verified image pulls (KEP-2535) through ensureImage on the fake CRI', () => {
  it("records the pulling secret in upstream's file layout and JSON, and removes the pull intent", async () => {
    const pulls = await manager();
    await expect(
      ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls),
    ).resolves.toBe('sha256:private');
    const { text } = await pulledRecordFile('sha256:private');
    const hash = sha('{"username":"robot","password":"s3cret"}');
    expect(text).toBe(
      `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2026-11-23T16:00:00Z","imageRef":"sha256:private","credentialMapping":{"registry.example.com/team/app":{"kubernetesSecrets":[{"uid":"uid-1","namespace":"team","name":"regcred","credentialHash":"${hash}"}]}}}`,
    );
    expect(await readdir(join(rootDir, 'image_manager', 'pulling'))).toEqual([]);
  });

  it('a pod without the credentials cannot reuse the private image: IfNotPresent pulls with its own (none) and fails, Never fails ErrImageNeverPull', async () => {
    const pulls = await manager();
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls);
    pullAuths.length = 0;
    await expect(ensure(pod('b', 'IfNotPresent'), [], pulls)).rejects.toMatchObject({ code: 'ErrImagePull' });
    expect(pullAuths).toEqual([null]);
    await expect(ensure(pod('c', 'Never'), [], pulls)).rejects.toMatchObject({
      code: 'ErrImageNeverPull',
      message: `Container image "${privateImage}" is not present with pull policy of Never`,
    });
    // A failed pull leaves no intent behind.
    expect(await readdir(join(rootDir, 'image_manager', 'pulling'))).toEqual([]);
  });

  it('without a pull manager (NeverVerify semantics of old) the same pod reuses the image', async () => {
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], undefined);
    await expect(ensure(pod('b', 'Never'), [], undefined)).resolves.toBe('sha256:private');
  });

  it('the same secret, or another secret with the same credential, uses the image without pulling; the other secret is recorded', async () => {
    const pulls = await manager();
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls);
    pullAuths.length = 0;
    await expect(
      ensure(pod('a2', 'Never', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls),
    ).resolves.toBe('sha256:private');
    await expect(ensure(pod('d', 'Never', ['copy']), [dockerSecret('copy', 'uid-2')], pulls)).resolves.toBe(
      'sha256:private',
    );
    expect(pullAuths).toEqual([]);
    const record = decodeImagePulledRecord('f', (await pulledRecordFile('sha256:private')).text);
    expect(
      record.credentialMapping['registry.example.com/team/app']?.kubernetesSecrets?.map((s) => s.name),
    ).toEqual(['copy', 'regcred']);
  });

  it('a secret with a wrong password for the same image must pull, and fails like a fresh pull', async () => {
    const pulls = await manager();
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls);
    pullAuths.length = 0;
    await expect(
      ensure(pod('e', 'IfNotPresent', ['bad']), [dockerSecret('bad', 'uid-3', 'wrong')], pulls),
    ).rejects.toMatchObject({ code: 'ErrImagePull' });
    expect(pullAuths).toEqual([{ username: 'robot', password: 'wrong' }]);
  });

  it('records survive a restart: a second pod without credentials still cannot use the image, the pulling pod still can', async () => {
    const before = await manager();
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], before);
    // A new kubelet: a new manager over the same root dir (nothing kept in memory).
    const after = await manager();
    pullAuths.length = 0;
    await expect(ensure(pod('b', 'Never'), [], after)).rejects.toMatchObject({ code: 'ErrImageNeverPull' });
    await expect(ensure(pod('b2', 'IfNotPresent'), [], after)).rejects.toMatchObject({
      code: 'ErrImagePull',
    });
    expect(pullAuths).toEqual([null]);
    await expect(
      ensure(pod('a3', 'Never', ['regcred']), [dockerSecret('regcred', 'uid-1')], after),
    ).resolves.toBe('sha256:private');
  });

  it('an intent left by a crash becomes a record without credentials at start: every pod is then verified', async () => {
    fake.addImage({ ref: privateImage, id: 'sha256:private' });
    const pulling = join(rootDir, 'image_manager', 'pulling');
    await mkdir(pulling, { recursive: true });
    await writeFile(
      join(pulling, `sha256-${sha(privateImage)}`),
      `{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1alpha1","image":"${privateImage}"}`,
    );
    const pulls = await manager();
    expect(await readdir(pulling)).toEqual([]);
    const record = decodeImagePulledRecord('f', (await pulledRecordFile('sha256:private')).text);
    expect(record.credentialMapping).toEqual({});
    await expect(ensure(pod('b', 'Never'), [], pulls)).rejects.toMatchObject({ code: 'ErrImageNeverPull' });
    await expect(
      ensure(pod('a', 'Never', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls),
    ).rejects.toMatchObject({
      code: 'ErrImageNeverPull',
    });
  });

  it('a preloaded image (no record) is free under NeverVerifyPreloadedImages and verified under AlwaysVerify', async () => {
    fake.addImage({ ref: privateImage, id: 'sha256:private' });
    await expect(ensure(pod('b', 'Never'), [], await manager())).resolves.toBe('sha256:private');
    await expect(ensure(pod('b', 'Never'), [], await manager('AlwaysVerify'))).rejects.toMatchObject({
      code: 'ErrImageNeverPull',
    });
    await expect(ensure(pod('b', 'Never'), [], await manager('NeverVerify'))).resolves.toBe('sha256:private');
  });

  it('an image pulled without pod credentials is recorded as node-pods-accessible and free for every pod', async () => {
    const publicImage = 'registry.example.com/public/tool:2';
    fake.addRegistryImage({ ref: publicImage, id: 'sha256:public' });
    const pulls = await manager('AlwaysVerify');
    await ensure(pod('p', 'IfNotPresent', [], publicImage), [], pulls);
    const record = decodeImagePulledRecord('f', (await pulledRecordFile('sha256:public')).text);
    expect(record.credentialMapping).toEqual({
      'registry.example.com/public/tool': { nodePodsAccessible: true },
    });
    pullAuths.length = 0;
    await expect(ensure(pod('q', 'Never', [], publicImage), [], pulls)).resolves.toBe('sha256:public');
    expect(pullAuths).toEqual([]);
  });

  it('NeverVerifyAllowlistedImages lets allowlisted preloaded images through by normalized name', async () => {
    fake.addImage({ ref: 'busybox:1.36', id: 'sha256:busybox' });
    fake.addImage({ ref: privateImage, id: 'sha256:private' });
    const pulls = await manager('NeverVerifyAllowlistedImages', ['docker.io/library/busybox']);
    await expect(ensure(pod('b', 'Never', [], 'busybox:1.36'), [], pulls)).resolves.toBe('sha256:busybox');
    await expect(ensure(pod('b', 'Never'), [], pulls)).rejects.toMatchObject({ code: 'ErrImageNeverPull' });
    const byPrefix = await manager('NeverVerifyAllowlistedImages', ['registry.example.com/*']);
    await expect(ensure(pod('b', 'Never'), [], byPrefix)).resolves.toBe('sha256:private');
  });
});

describe('verified pulls with a credential provider in service account token mode', () => {
  async function tokenModeProviders() {
    const binDir = join(rootDir, 'bin');
    const plugin = await writeFakeProvider(binDir, 'sa-login');
    await plugin.respond({
      cacheKeyType: 'Registry',
      cacheDuration: '1h',
      auth: { 'registry.example.com': { username: 'robot', password: 's3cret' } },
    });
    return ImageCredentialProviders.fromConfig(
      {
        providers: [
          {
            name: 'sa-login',
            matchImages: ['*.example.com'],
            defaultCacheDurationMs: 0,
            apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
            args: [],
            env: [],
            tokenAttributes: {
              serviceAccountTokenAudience: 'registry.example.com',
              requireServiceAccount: true,
              requiredServiceAccountAnnotationKeys: [],
              optionalServiceAccountAnnotationKeys: [],
              cacheType: 'ServiceAccount',
            },
          },
        ],
      },
      {
        binDir,
        clock,
        tokens: { getToken: async () => 'token' },
        serviceAccounts: async (namespace, name) => ({ uid: `sa-${namespace}-${name}`, annotations: {} }),
      },
    );
  }
  const withAccount = (target: Pod, serviceAccountName: string): Pod => ({
    ...target,
    spec: { ...target.spec, serviceAccountName },
  });

  it('records the service account that pulled; the same account reuses the image, another account must pull', async () => {
    const providers = await tokenModeProviders();
    const pulls = await manager();
    await ensure(withAccount(pod('a', 'IfNotPresent'), 'builder'), [], pulls, providers);
    const record = decodeImagePulledRecord('f', (await pulledRecordFile('sha256:private')).text);
    expect(record.credentialMapping).toEqual({
      'registry.example.com/team/app': {
        kubernetesServiceAccounts: [{ uid: 'sa-team-builder', namespace: 'team', name: 'builder' }],
      },
    });
    pullAuths.length = 0;
    await expect(ensure(withAccount(pod('b', 'Never'), 'builder'), [], pulls, providers)).resolves.toBe(
      'sha256:private',
    );
    expect(pullAuths).toEqual([]);
    await expect(
      ensure(withAccount(pod('c', 'Never'), 'deployer'), [], pulls, providers),
    ).rejects.toMatchObject({
      code: 'ErrImageNeverPull',
    });
    // IfNotPresent: the other account pulls with its own token's credentials, and is recorded too.
    await expect(
      ensure(withAccount(pod('d', 'IfNotPresent'), 'deployer'), [], pulls, providers),
    ).resolves.toBe('sha256:private');
    expect(pullAuths).toEqual([{ username: 'robot', password: 's3cret' }]);
    const after = decodeImagePulledRecord('f', (await pulledRecordFile('sha256:private')).text);
    expect(
      after.credentialMapping['registry.example.com/team/app']?.kubernetesServiceAccounts?.map((a) => a.name),
    ).toEqual(['builder', 'deployer']);
  });
});

describe('image GC prunes pulled records', () => {
  it('drops records of images gone before the pass began, keeps those still present or updated since', async () => {
    const pulls = await manager();
    await pulls.recordImagePulled('registry.example.com/a:1', 'sha256:gone', { nodePodsAccessible: true });
    await pulls.recordImagePulled('registry.example.com/b:1', 'sha256:kept', { nodePodsAccessible: true });
    const began = clock.now() + 1000;
    clock.advance(5000);
    await pulls.recordImagePulled('registry.example.com/c:1', 'sha256:fresh', { nodePodsAccessible: true });
    await pulls.pruneUnknownRecords(['sha256:kept'], began);
    const left = (await readdir(pulls.pulledDir)).sort();
    expect(left).toEqual([`sha256-${sha('sha256:fresh')}`, `sha256-${sha('sha256:kept')}`].sort());
  });

  it('the GC calls its after-free-space hook with the images it left and the time the pass began', async () => {
    const images = [
      { id: 'sha256:old', repoTags: ['x:1'], sizeBytes: 10, pinned: false },
      { id: 'sha256:used', repoTags: ['y:1'], sizeBytes: 10, pinned: false },
    ];
    const calls: [string[], number][] = [];
    const gc = new ImageGCManager({
      images: {
        listImages: async () => images,
        removeImage: async (id) => {
          images.splice(
            images.findIndex((i) => i.id === id),
            1,
          );
        },
      },
      imagesInUse: async () => ['sha256:used'],
      imageFs: async () => ({ capacityBytes: 100, availableBytes: 50 }) as never,
      policy: { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0, maxAgeMs: 0 },
      clock,
      afterFreeSpace: async (remaining, began) => {
        calls.push([remaining, began]);
      },
    });
    const began = clock.now();
    await gc.deleteUnusedImages();
    expect(calls).toEqual([[['sha256:used'], began]]);
  });
});

describe('verified pull metrics', () => {
  it("counts records on disk and each check by result, under upstream's names", async () => {
    const registry = new Registry();
    const pulls = await ImagePullManager.create({
      rootDir,
      policy: imagePullVerificationPolicy('NeverVerifyPreloadedImages', []),
      listImages: async () => [],
      clock,
      registry,
    });
    await ensure(pod('a', 'IfNotPresent', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls);
    await ensure(pod('a2', 'Never', ['regcred']), [dockerSecret('regcred', 'uid-1')], pulls);
    await ensure(pod('b', 'Never'), [], pulls).catch(() => undefined);
    const text = await registry.metrics();
    expect(text).toContain('kubelet_imagemanager_ondisk_pullintents 0');
    expect(text).toContain('kubelet_imagemanager_ondisk_pulledrecords 1');
    expect(text).toContain(
      'kubelet_imagemanager_image_mustpull_checks_total{result="credentialRecordFound"} 1',
    );
    expect(text).toContain('kubelet_imagemanager_image_mustpull_checks_total{result="mustAuthenticate"} 1');
  });
});

describe('records and policy', () => {
  it("reads upstream's recorded pulled-record file", () => {
    const upstream =
      '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"testsecrethash"}]}}}';
    expect(decodeImagePulledRecord('f', upstream)).toEqual({
      lastUpdatedTime: '2024-10-21T12:26:40Z',
      imageRef: 'testimageref',
      credentialMapping: {
        'docker.io/testing/test': {
          kubernetesSecrets: [
            {
              uid: 'testsecretuid',
              namespace: 'default',
              name: 'pull-secret',
              credentialHash: 'testsecrethash',
            },
          ],
        },
      },
    });
    expect(() =>
      decodeImagePulledRecord(
        'f',
        '{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1alpha1"}',
      ),
    ).toThrow(/kind "ImagePullIntent"/);
  });

  it('hashes a credential as upstream (user "user", password "password" → upstream test vector)', () => {
    expect(credentialHash({ username: 'user', password: 'password' })).toBe(
      'a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d',
    );
  });

  it.each([
    [' registry.io/*', 'leading/trailing spaces are not allowed:  registry.io/*'],
    ['/*', 'at least registry hostname is required'],
    [
      'registry.io/*/app',
      "not a valid wildcard pattern, only patterns ending with '/*' are allowed: registry.io/*/app",
    ],
    ['registry.io/app:1', 'neither tag nor digest is accepted in an image reference: registry.io/app:1'],
    ['busybox', 'neither tag nor digest is accepted in an image reference: busybox'],
    ['Registry.io/App', 'failed to parse as an image name: invalid reference format'],
  ])('refuses allowlist pattern %j: %s', (pattern, reason) => {
    let error: unknown;
    try {
      parseAllowlistPattern(pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ field: 'preloadedImagesVerificationAllowlist', value: pattern });
    expect((error as Error).message).toContain(reason);
  });

  it('accepts exact names and host prefixes', () => {
    expect(parseAllowlistPattern('docker.io/library/busybox')).toEqual({
      exact: 'docker.io/library/busybox',
    });
    expect(parseAllowlistPattern('registry.io:5000/team/*')).toEqual({ prefix: 'registry.io:5000/team/' });
  });
});

describe('configuration', () => {
  it("refuses a bad preloadedImagesVerificationAllowlist pattern with upstream's reason, naming the field", () => {
    expect(() =>
      parseKubeletConfiguration({
        imagePullCredentialsVerificationPolicy: 'NeverVerifyAllowlistedImages',
        preloadedImagesVerificationAllowlist: ['registry.io/team/*', 'registry.io/*/app'],
      }),
    ).toThrow(
      expect.objectContaining({
        field: 'preloadedImagesVerificationAllowlist',
        value: 'registry.io/*/app',
        message: expect.stringContaining("only patterns ending with '/*' are allowed"),
      }),
    );
  });

  it('builds no manager with KubeletEnsureSecretPulledImages off, and one enforcing the configured policy otherwise', async () => {
    const deps = { rootDir, listImages: async () => [], clock };
    const off = await imagePullManagerFromConfig(
      { ...parseKubeletConfiguration({}).config, featureGates: { KubeletEnsureSecretPulledImages: false } },
      deps,
    );
    expect(off).toBeUndefined();
    fake.addImage({ ref: privateImage, id: 'sha256:private' });
    const always = await imagePullManagerFromConfig(
      parseKubeletConfiguration({ imagePullCredentialsVerificationPolicy: 'AlwaysVerify' }).config,
      deps,
    );
    await expect(ensure(pod('b', 'Never'), [], always)).rejects.toMatchObject({ code: 'ErrImageNeverPull' });
    // The v1beta1 default (NeverVerifyPreloadedImages): a preloaded image is free.
    const byDefault = await imagePullManagerFromConfig(parseKubeletConfiguration({}).config, deps);
    await expect(ensure(pod('b', 'Never'), [], byDefault)).resolves.toBe('sha256:private');
  });
});
