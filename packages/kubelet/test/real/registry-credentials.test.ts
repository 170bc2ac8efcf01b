import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, Secret } from '../../src/api/pod-types';
import { ImageCredentialProviders } from '../../src/images/credential-provider/image-credential-providers';
import type { Kubelet } from '../../src/kubelet';
import { writeFakeProvider } from '../helpers/fake-credential-provider';
import { waitFor } from '../helpers/wait-for';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';
import { type PrivateRegistry, startPrivateRegistry } from './private-registry';
import { firstContainerWaiting, sleepingPod, startPullCheckingKubelet } from './pull-checking-kubelet';
import { type ContainerdSeries, containerdSeries } from './runtime-series';

// A real registry (Debian's docker-registry, htpasswd basic auth) on loopback in the private
// containerd's network namespace; containerd pulls from it over plain HTTP with the credentials
// the kubelet puts in CRI PullImage.

const robot = { username: 'robot', password: 's3cret' };
let containerd: PrivateContainerd;
let series: ContainerdSeries;
let registry: PrivateRegistry;
let client: CriClient;
let dir: string;
/** Private images (own repositories, own image IDs) in the registry. */
const images: Record<'one' | 'two' | 'three', { ref: string; id: string; digest: string }> = {} as never;
const kubelets: Kubelet[] = [];
const events: { uid: string; type: string; reason: string; message: string }[] = [];

function dockerConfigSecret(name: string, username: string, password: string): Secret {
  const auths = { [registry.host]: { username, password } };
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
  };
}

const secrets = new Map<string, Secret>();

const newKubelet = (credentialProviders?: ImageCredentialProviders) =>
  startPullCheckingKubelet({
    client,
    dir,
    nodeName: 'node-registry',
    hostIP: '192.168.71.3',
    getSecret: (ns, name) => (ns === 'default' ? secrets.get(name) : undefined),
    credentialProviders,
    recordEvent: (p, type, reason, message) => events.push({ uid: p.metadata.uid!, type, reason, message }),
    started: kubelets,
  });

async function stopKubelet(kubelet: Kubelet): Promise<void> {
  for (const p of kubelet.getPods()) kubelet.removePod(p);
  await kubelet.settle();
  await kubelet.stop();
  kubelets.splice(kubelets.indexOf(kubelet), 1);
}

let podCount = 0;
function pod(
  image: string,
  imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always',
  imagePullSecrets: string[] = [],
  serviceAccountName?: string,
): Pod {
  podCount++;
  return sleepingPod({
    name: `private-${podCount}`,
    uid: `registry-${process.pid}-${podCount}`,
    image,
    imagePullPolicy,
    imagePullSecrets,
    serviceAccountName,
  });
}

/** A hang guard for each wait: a pull at load average 80+ takes minutes. */
const WAIT_MS = 180_000;
const waitingWith = (kubelet: Kubelet, p: Pod, reason: string) =>
  waitFor(
    `${p.metadata.name} waiting with ${reason}`,
    () => {
      const w = firstContainerWaiting(kubelet, p);
      return w?.reason === reason ? w : undefined;
    },
    WAIT_MS,
  );
const running = (kubelet: Kubelet, p: Pod) =>
  waitFor(
    `${p.metadata.name} Running`,
    () => kubelet.getPodStatus(p.metadata.uid!)?.phase === 'Running',
    WAIT_MS,
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-registry-real-${process.pid}-`));
  containerd = await startPrivateContainerd();
  registry = await startPrivateRegistry(containerd, [robot]);
  const archive = (containerd.images!.busybox as unknown as { archive: string }).archive;
  const run = randomBytes(4).toString('hex');
  // Two repositories: credential providers are asked per repository (the image without its tag).
  for (const [key, repository] of [
    ['one', 'private/busybox'],
    ['two', 'private/busybox-two'],
    ['three', 'private/busybox-sa'],
  ] as const) {
    const pushed = await registry.push(
      archive,
      { repository, tag: '1.0', labels: { run, repository } },
      robot,
    );
    images[key] = { ref: `${registry.host}/${repository}:1.0`, id: pushed.id, digest: pushed.manifestDigest };
  }
  secrets.set('regcred', dockerConfigSecret('regcred', robot.username, robot.password));
  secrets.set('wrongcred', dockerConfigSecret('wrongcred', robot.username, 'not-the-password'));
  client = await createCriClient({ endpoint: containerd.endpoint });
  series = await containerdSeries(client);
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await tearDownKubeletNode({ kubelets, client, containerd, dir });
}, 180_000);

/** Which credentials the refused pull carried: none, or a wrong password. */
type SentCredentials = 'none' | 'wrong';

/**
 * containerd's error, as the kubelet reports it, for a manifest request the registry refused.
 * 1.6 words both cases alike; 2.1 says "no basic auth credentials" when none were sent and names
 * the refused HEAD request when wrong ones were (measured on 1.6.20 and 2.1.9).
 */
function unauthorized(ref: string, sent: SentCredentials): string {
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  const repository = ref.slice(registry.host.length + 1, ref.lastIndexOf(':'));
  const prefix = `rpc error: code = Unknown desc = failed to pull and unpack image "${ref}": `;
  if (series === '1.6')
    return `${prefix}failed to resolve reference "${ref}": pulling from host ${registry.host} failed with status code [manifests ${tag}]: 401 Unauthorized`;
  if (sent === 'none')
    return `${prefix}failed to resolve image: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`;
  return `${prefix}failed to resolve image: unexpected status from HEAD request to http://${registry.host}/v2/${repository}/manifests/${tag}: 401 Unauthorized`;
}

const eventsOf = (p: Pod) => events.filter((e) => e.uid === p.metadata.uid).map(({ uid: _uid, ...e }) => e);

/**
 * Waits for the pull of `p` to be refused for want of credentials, and checks its status says so.
 * Its ErrImagePull can last a few milliseconds, until the next sync turns it into
 * ImagePullBackOff, and the next pull comes with the resync a minute later: the pull's event
 * says what the registry answered, and the waiting reason keeps it either way.
 */
async function pullRefused(kubelet: Kubelet, p: Pod, ref: string, sent: SentCredentials): Promise<void> {
  const refused = `Failed to pull image "${ref}": ${unauthorized(ref, sent)}`;
  // The event comes during the sync, the status at its end: wait for both.
  const waiting = await waitFor(
    `${p.metadata.name} pull refused`,
    () =>
      eventsOf(p).some((e) => e.reason === 'Failed' && e.message === refused) &&
      firstContainerWaiting(kubelet, p)?.message?.includes(unauthorized(ref, sent)) &&
      firstContainerWaiting(kubelet, p),
    WAIT_MS,
  );
  expect(waiting?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
  expect(waiting?.message).toContain(unauthorized(ref, sent));
}

/**
 * A CredentialProviderConfig (in `dir`) with one plugin, `name`, for the registry's images, and
 * the plugin folder `dir/bin-<label>` it names.
 */
async function writeProviderConfig(label: string, name: string, tokenAttributes?: Record<string, unknown>) {
  const binDir = join(dir, `bin-${label}`);
  const configPath = join(dir, `credential-providers-${label}.json`);
  const provider = {
    name,
    matchImages: [registry.host],
    defaultCacheDuration: '10m',
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    ...(tokenAttributes ? { tokenAttributes } : {}),
  };
  await writeFile(
    configPath,
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1',
      kind: 'CredentialProviderConfig',
      providers: [provider],
    }),
  );
  return { binDir, configPath };
}

describe('private registry with basic auth on a real containerd', () => {
  it('missing and wrong pull secrets fail the pull as upstream reports it (ErrImagePull, then ImagePullBackOff); the right one pulls', async () => {
    const kubelet = await newKubelet();
    const { ref } = images.one;
    const none = pod(ref, 'IfNotPresent');
    kubelet.addPod(none);
    await pullRefused(kubelet, none, ref, 'none');
    expect(await waitingWith(kubelet, none, 'ImagePullBackOff')).toEqual({
      reason: 'ImagePullBackOff',
      message: `Back-off pulling image "${ref}": ErrImagePull: ${unauthorized(ref, 'none')}`,
    });
    expect(eventsOf(none)).toEqual(
      expect.arrayContaining([
        {
          type: 'Warning',
          reason: 'Failed',
          message: `Failed to pull image "${ref}": ${unauthorized(ref, 'none')}`,
        },
        { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' },
        { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${ref}"` },
        { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' },
      ]),
    );

    const wrong = pod(ref, 'IfNotPresent', ['wrongcred']);
    kubelet.addPod(wrong);
    await pullRefused(kubelet, wrong, ref, 'wrong');

    const right = pod(ref, 'IfNotPresent', ['regcred']);
    kubelet.addPod(right);
    await running(kubelet, right);
    const pulled = await client.imageStatus({ image: { image: ref } });
    expect(pulled.image?.id).toBe(images.one.id);
    // The pod without credentials still cannot pull, though the image is now on the node.
    expect(firstContainerWaiting(kubelet, none)?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
    await stopKubelet(kubelet);
  }, 600_000);

  it('verified pulls: a pod without the secret cannot use the private image on the node (Never: ErrImageNeverPull, IfNotPresent: pulls and is refused), also after a kubelet restart', async () => {
    const { ref } = images.one;
    const record = JSON.parse(
      await readFile(
        join(
          dir,
          'root',
          'image_manager',
          'pulled',
          (await readdir(join(dir, 'root', 'image_manager', 'pulled')))[0]!,
        ),
        'utf8',
      ),
    ) as { imageRef: string; credentialMapping: Record<string, { kubernetesSecrets?: { name: string }[] }> };
    // The record of the first test's pull names the secret that pulled it.
    expect(record.imageRef).toBe(images.one.id);
    expect(
      record.credentialMapping[`${registry.host}/private/busybox`]?.kubernetesSecrets?.map((s) => s.name),
    ).toEqual(['regcred']);
    for (const round of ['restarted kubelet', 'restarted again']) {
      const kubelet = await newKubelet();
      const never = pod(ref, 'Never');
      kubelet.addPod(never);
      expect(await waitingWith(kubelet, never, 'ErrImageNeverPull'), round).toEqual({
        reason: 'ErrImageNeverPull',
        message: `Container image "${ref}" is not present with pull policy of Never`,
      });
      const ifNotPresent = pod(ref, 'IfNotPresent');
      kubelet.addPod(ifNotPresent);
      await pullRefused(kubelet, ifNotPresent, ref, 'none');
      const withSecret = pod(ref, 'Never', ['regcred']);
      kubelet.addPod(withSecret);
      await running(kubelet, withSecret);
      await stopKubelet(kubelet);
    }
  }, 600_000);

  it('a credential provider (exec plugin) supplies the credentials, cached per image, per registry or globally as its cacheKeyType says', async () => {
    const expectedRuns = { Image: 2, Registry: 1, Global: 1 } as const;
    for (const cacheKeyType of ['Image', 'Registry', 'Global'] as const) {
      const { binDir, configPath } = await writeProviderConfig(cacheKeyType, 'registry-login');
      const plugin = await writeFakeProvider(binDir, 'registry-login');
      await plugin.respond({ cacheKeyType, cacheDuration: '1h', auth: { [registry.host]: robot } });
      const providers = await ImageCredentialProviders.load({ configPath, binDir });
      const kubelet = await newKubelet(providers);
      // Always: each pod pulls, so each asks for credentials (from the plugin or its cache).
      for (const image of [images.one, images.two, images.one]) {
        const p = pod(image.ref, 'Always');
        kubelet.addPod(p);
        await running(kubelet, p);
      }
      const calls = await plugin.calls();
      expect(calls.length, cacheKeyType).toBe(expectedRuns[cacheKeyType]);
      expect(calls[0]?.request).toMatchObject({
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        kind: 'CredentialProviderRequest',
        image: `${registry.host}/private/busybox`,
      });
      await stopKubelet(kubelet);
    }
  }, 600_000);

  it('a credential provider with a wrong password: the pull is refused as with a wrong secret', async () => {
    const { binDir, configPath } = await writeProviderConfig('wrong', 'registry-login');
    const plugin = await writeFakeProvider(binDir, 'registry-login');
    await plugin.respond({
      cacheKeyType: 'Registry',
      cacheDuration: '1h',
      auth: { [registry.host]: { username: robot.username, password: 'stale' } },
    });
    const kubelet = await newKubelet(await ImageCredentialProviders.load({ configPath, binDir }));
    const p = pod(images.two.ref, 'Always');
    kubelet.addPod(p);
    await pullRefused(kubelet, p, images.two.ref, 'wrong');
    expect((await plugin.calls()).length).toBe(1);
    await stopKubelet(kubelet);
  }, 600_000);

  it('a provider in service account token mode: the pod token goes to the plugin, and only pods of the account that pulled reuse the image', async () => {
    const { binDir, configPath } = await writeProviderConfig('token', 'sa-login', {
      serviceAccountTokenAudience: 'registry.test',
      requireServiceAccount: true,
      cacheType: 'ServiceAccount',
    });
    const plugin = await writeFakeProvider(binDir, 'sa-login');
    await plugin.respond({ cacheKeyType: 'Registry', cacheDuration: '1h', auth: { [registry.host]: robot } });
    const providers = await ImageCredentialProviders.load({
      configPath,
      binDir,
      tokens: { getToken: async (r) => `token-for-${r.serviceAccountName}-${r.audiences.join(',')}` },
      serviceAccounts: async (namespace, name) => ({ uid: `sa-${namespace}-${name}`, annotations: {} }),
    });
    const kubelet = await newKubelet(providers);
    const { ref } = images.three;
    const builder = pod(ref, 'IfNotPresent', [], 'builder');
    kubelet.addPod(builder);
    await running(kubelet, builder);
    const [call] = await plugin.calls();
    expect(call?.request).toMatchObject({
      image: `${registry.host}/private/busybox-sa`,
      serviceAccountToken: 'token-for-builder-registry.test',
    });
    const sameAccount = pod(ref, 'Never', [], 'builder');
    kubelet.addPod(sameAccount);
    await running(kubelet, sameAccount);
    const otherAccount = pod(ref, 'Never', [], 'deployer');
    kubelet.addPod(otherAccount);
    expect(await waitingWith(kubelet, otherAccount, 'ErrImageNeverPull')).toEqual({
      reason: 'ErrImageNeverPull',
      message: `Container image "${ref}" is not present with pull policy of Never`,
    });
    await stopKubelet(kubelet);
  }, 600_000);
});
