import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CredentialProviderSpec } from '../src/images/credential-provider/credential-provider-config';
import {
  apiServiceAccountGetter,
  imageCredentialProvidersFromFlags,
} from '../src/images/credential-provider/credential-providers-from-flags';
import { ImageCredentialProviders } from '../src/images/credential-provider/image-credential-providers';
import type { PullingPod, ServiceAccountInfo } from '../src/images/credential-provider/plugin-provider';
import { writeFakeProvider } from './helpers/fake-credential-provider';

let dir: string;
let binDir: string;
let clock: FakeClock;
let errors: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-credprov-${process.pid}-`));
  binDir = join(dir, 'bin');
  clock = new FakeClock(1_000_000);
  errors = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(name: string, overrides: Partial<CredentialProviderSpec> = {}): CredentialProviderSpec {
  return {
    name,
    matchImages: ['*.example.com', 'registry.local:5000'],
    defaultCacheDurationMs: 60_000,
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    args: [],
    env: [],
    ...overrides,
  };
}

function providers(
  specs: CredentialProviderSpec[],
  extra: Partial<Parameters<typeof ImageCredentialProviders.fromConfig>[1]> = {},
) {
  return ImageCredentialProviders.fromConfig(
    { providers: specs },
    { binDir, clock, log: { error: (m) => errors.push(m) }, ...extra },
  );
}

const auth = (username: string) => ({ '*.example.com': { username, password: `${username}-pw` } });

describe('credential provider plugins (exec, cache key types)', () => {
  it('runs the plugin with its args and env, the request on stdin, and caches per image (cacheKeyType Image)', async () => {
    const plugin = await writeFakeProvider(binDir, 'ecr');
    await plugin.respond({ cacheKeyType: 'Image', cacheDuration: '5m', auth: auth('a') });
    const set = providers([
      spec('ecr', {
        args: ['get-credentials', '--v=2'],
        env: [{ name: 'FAKE_PROVIDER_ENV', value: 'from-config' }],
      }),
    ]);

    expect(await set.lookup('registry.example.com/team/app')).toEqual([{ username: 'a', password: 'a-pw' }]);
    expect(await set.lookup('registry.example.com/team/app')).toEqual([{ username: 'a', password: 'a-pw' }]);
    let calls = await plugin.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      args: 'get-credentials --v=2',
      env: 'from-config',
      request: {
        kind: 'CredentialProviderRequest',
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        image: 'registry.example.com/team/app',
      },
    });
    // Another image of the same registry is not covered by an Image-keyed entry.
    await set.lookup('registry.example.com/team/other');
    expect(await plugin.calls()).toHaveLength(2);
    // cacheDuration 5m: still cached just before, run again just after.
    clock.advance(5 * 60_000);
    await set.lookup('registry.example.com/team/app');
    expect(await plugin.calls()).toHaveLength(2);
    clock.advance(1);
    await set.lookup('registry.example.com/team/app');
    calls = await plugin.calls();
    expect(calls).toHaveLength(3);
  });

  it('caches per registry (cacheKeyType Registry), using defaultCacheDuration when the response has none', async () => {
    const plugin = await writeFakeProvider(binDir, 'gcr');
    await plugin.respond({ cacheKeyType: 'Registry', auth: auth('r') });
    const set = providers([spec('gcr', { defaultCacheDurationMs: 10_000 })]);
    await set.lookup('one.example.com/a');
    await set.lookup('one.example.com/b/c');
    expect(await plugin.calls()).toHaveLength(1);
    await set.lookup('two.example.com/a');
    expect(await plugin.calls()).toHaveLength(2);
    clock.advance(10_001);
    await set.lookup('one.example.com/a');
    expect(await plugin.calls()).toHaveLength(3);
  });

  it('caches once for every image (cacheKeyType Global); cacheDuration 0s is never cached', async () => {
    const global = await writeFakeProvider(binDir, 'global');
    await global.respond({ cacheKeyType: 'Global', cacheDuration: '1h', auth: auth('g') });
    const set = providers([spec('global')]);
    await set.lookup('one.example.com/a');
    await set.lookup('two.example.com/b');
    await set.lookup('registry.local:5000/c');
    expect(await global.calls()).toHaveLength(1);

    const uncached = await writeFakeProvider(binDir, 'uncached');
    await uncached.respond({ cacheKeyType: 'Global', cacheDuration: '0s', auth: auth('u') });
    const other = providers([spec('uncached')]);
    await other.lookup('one.example.com/a');
    await other.lookup('one.example.com/a');
    expect(await uncached.calls()).toHaveLength(2);
  });

  it('runs the plugin once for concurrent requests of the same image', async () => {
    const plugin = await writeFakeProvider(binDir, 'once');
    await plugin.respond({ cacheKeyType: 'Image', cacheDuration: '0s', auth: auth('o') });
    const set = providers([spec('once')]);
    const results = await Promise.all([1, 2, 3].map(() => set.lookup('a.example.com/x')));
    expect(results).toEqual([1, 2, 3].map(() => [{ username: 'o', password: 'o-pw' }]));
    expect(await plugin.calls()).toHaveLength(1);
  });

  it('runs only for images matchImages covers (host globs per label, exact port, path prefix)', async () => {
    const plugin = await writeFakeProvider(binDir, 'p');
    await plugin.respond({
      cacheKeyType: 'Image',
      cacheDuration: '0s',
      auth: { 'registry.local:5000': { username: 'local', password: 'x' } },
    });
    const set = providers([spec('p', { matchImages: ['*.example.com/team', 'registry.local:5000'] })]);
    await set.lookup('a.example.com/team/app');
    await set.lookup('a.b.example.com/team/app'); // one label too many
    await set.lookup('a.example.com/other/app'); // path not under /team
    await set.lookup('registry.local/app'); // no port
    await set.lookup('registry.local:5001/app'); // other port
    expect(await set.lookup('registry.local:5000/app')).toEqual([{ username: 'local', password: 'x' }]);
    expect((await plugin.calls()).map((c) => c.request.image)).toEqual([
      'a.example.com/team/app',
      'registry.local:5000/app',
    ]);
  });

  it('returns the auth entries matching the image most specific first, across providers in config order', async () => {
    const first = await writeFakeProvider(binDir, 'first');
    await first.respond({
      cacheKeyType: 'Image',
      auth: {
        'registry.example.com': { username: 'host', password: '1' },
        'registry.example.com/team': { username: 'team', password: '2' },
        'other.example.com': { username: 'other', password: '3' },
      },
    });
    const second = await writeFakeProvider(binDir, 'second');
    await second.respond({
      cacheKeyType: 'Image',
      auth: { '*.example.com': { username: 'glob', password: '4' } },
    });
    const set = providers([spec('first'), spec('second')]);
    expect((await set.lookup('registry.example.com/team/app')).map((c) => c.username)).toEqual([
      'team',
      'host',
      'glob',
    ]);
  });

  it('reports a failing plugin by name and image (exit status, stderr), gives no credentials and counts the error', async () => {
    const registry = new Registry();
    const plugin = await writeFakeProvider(binDir, 'broken');
    await plugin.fail(3, 'no credentials for you');
    const set = providers([spec('broken')], { registry });
    expect(await set.lookup('registry.example.com/app')).toEqual([]);
    expect(errors).toEqual([
      'Failed getting credential from external registry credential provider: error execing credential provider plugin broken for image registry.example.com/app: exit status 3: no credentials for you',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('kubelet_credential_provider_plugin_errors_total{plugin_name="broken"} 1');
    expect(text).toContain('kubelet_credential_provider_plugin_duration_count{plugin_name="broken"} 1');
  });

  it('refuses a response of another apiVersion, an undecodable one and an unknown cacheKeyType', async () => {
    const plugin = await writeFakeProvider(binDir, 'odd');
    const set = providers([spec('odd')]);
    await plugin.respondRaw(
      JSON.stringify({
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1',
        kind: 'CredentialProviderResponse',
      }),
    );
    await set.lookup('a.example.com/x');
    await plugin.respond({ cacheKeyType: 'Image', auth: auth('a'), extra: 'field' });
    await set.lookup('a.example.com/x');
    await plugin.respond({ cacheKeyType: 'Pod', auth: auth('a') });
    expect(await set.lookup('a.example.com/x')).toEqual([]);
    expect(errors).toEqual([
      'Failed getting credential from external registry credential provider: apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1beta1',
      'Failed getting credential from external registry credential provider: error decoding credential provider plugin response from stdout',
      'credential provider plugin did not return a valid cacheKeyType: "Pod"',
    ]);
  });

  it('reports a plugin binary that disappeared after start as upstream (fork/exec)', async () => {
    const set = providers([spec('gone')]);
    expect(await set.lookup('a.example.com/x')).toEqual([]);
    expect(errors).toEqual([
      `Failed getting credential from external registry credential provider: error execing credential provider plugin gone for image a.example.com/x: fork/exec ${join(binDir, 'gone')}: no such file or directory: `,
    ]);
  });

  it('kills a plugin that does not answer within the exec timeout', async () => {
    await writeFakeProvider(binDir, 'slow', { hang: true });
    const set = providers([spec('slow')], { execTimeoutMs: 200 });
    expect(await set.lookup('a.example.com/x')).toEqual([]);
    expect(errors).toEqual([
      'Failed getting credential from external registry credential provider: error execing credential provider plugin slow for image a.example.com/x: context deadline exceeded: ',
    ]);
  });
});

describe('credential provider plugins in service account token mode', () => {
  const tokenSpec = (cacheType: string, overrides: Partial<CredentialProviderSpec['tokenAttributes']> = {}) =>
    spec('sa', {
      tokenAttributes: {
        serviceAccountTokenAudience: 'registry.example.com',
        requireServiceAccount: true,
        requiredServiceAccountAnnotationKeys: ['example.com/role'],
        optionalServiceAccountAnnotationKeys: ['example.com/region'],
        cacheType,
        ...overrides,
      },
    });
  const pod = (name: string, serviceAccountName: string): PullingPod => ({
    namespace: 'team',
    name,
    uid: `uid-${name}`,
    serviceAccountName,
  });

  function tokenSources() {
    const requests: unknown[] = [];
    let minted = 0;
    return {
      requests,
      tokens: {
        getToken: async (request: unknown) => {
          requests.push(request);
          minted++;
          return `token-${minted}`;
        },
      },
      serviceAccounts: async (namespace: string, name: string): Promise<ServiceAccountInfo> => {
        if (name === 'plain') return { uid: 'sa-plain', annotations: {} };
        return {
          uid: `sa-${namespace}-${name}`,
          annotations: { 'example.com/role': `role-${name}`, 'example.com/region': 'eu', unrelated: 'x' },
        };
      },
    };
  }

  it('sends a pod-bound token and the listed annotations, and caches per service account (cacheType ServiceAccount)', async () => {
    const plugin = await writeFakeProvider(binDir, 'sa');
    await plugin.respond({ cacheKeyType: 'Registry', cacheDuration: '10m', auth: auth('sa-user') });
    const sources = tokenSources();
    const set = providers([tokenSpec('ServiceAccount')], sources);

    // Token mode: the credential is the service account's (verified pulls record it).
    expect(await set.lookup('r.example.com/app', pod('web-1', 'builder'))).toEqual([
      {
        username: 'sa-user',
        password: 'sa-user-pw',
        source: { serviceAccount: { uid: 'sa-team-builder', namespace: 'team', name: 'builder' } },
      },
    ]);
    expect(sources.requests).toEqual([
      {
        namespace: 'team',
        serviceAccountName: 'builder',
        audiences: ['registry.example.com'],
        expirationSeconds: 3600,
        boundPod: { name: 'web-1', uid: 'uid-web-1' },
      },
    ]);
    expect((await plugin.calls())[0]!.request).toEqual({
      kind: 'CredentialProviderRequest',
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      image: 'r.example.com/app',
      serviceAccountToken: 'token-1',
      serviceAccountAnnotations: { 'example.com/role': 'role-builder', 'example.com/region': 'eu' },
    });
    // Another pod of the same service account: served from the cache.
    await set.lookup('r.example.com/app', pod('web-2', 'builder'));
    expect(await plugin.calls()).toHaveLength(1);
    // Another service account: its own entry.
    await set.lookup('r.example.com/app', pod('web-3', 'deployer'));
    expect(await plugin.calls()).toHaveLength(2);
  });

  it('keys the cache by token with cacheType Token, and refuses the token echoed back as password otherwise', async () => {
    const plugin = await writeFakeProvider(binDir, 'sa');
    await plugin.respond({
      cacheKeyType: 'Global',
      cacheDuration: '10m',
      auth: { '*.example.com': { username: 'u', password: 'token-1' } },
    });
    const set = providers([tokenSpec('Token')], tokenSources());
    expect(await set.lookup('r.example.com/app', pod('web-1', 'builder'))).toEqual([
      {
        username: 'u',
        password: 'token-1',
        source: { serviceAccount: { uid: 'sa-team-builder', namespace: 'team', name: 'builder' } },
      },
    ]);
    await set.lookup('r.example.com/app', pod('web-2', 'builder'));
    expect(await plugin.calls()).toHaveLength(2);

    const echo = providers([tokenSpec('ServiceAccount')], tokenSources());
    expect(await echo.lookup('r.example.com/app', pod('web-1', 'builder'))).toEqual([]);
    expect(errors).toEqual([
      `Credential provider plugin returned the service account token as the password for image "r.example.com/app", which is not allowed when service account cache type is not set to 'Token'`,
    ]);
  });

  it('skips the plugin without a service account when one is required, or without a required annotation', async () => {
    const plugin = await writeFakeProvider(binDir, 'sa');
    await plugin.respond({ cacheKeyType: 'Image', auth: auth('x') });
    const set = providers([tokenSpec('ServiceAccount')], tokenSources());
    expect(await set.lookup('r.example.com/app', pod('static', ''))).toEqual([]);
    expect(await set.lookup('r.example.com/app', pod('web', 'plain'))).toEqual([]);
    expect(await plugin.calls()).toHaveLength(0);
    expect(errors).toEqual([]);

    // requireServiceAccount false: a pod without one still gets the plugin, without a token.
    const optional = providers(
      [
        tokenSpec('ServiceAccount', {
          requireServiceAccount: false,
          requiredServiceAccountAnnotationKeys: [],
        }),
      ],
      tokenSources(),
    );
    expect(await optional.lookup('r.example.com/app', pod('static', ''))).toEqual([
      { username: 'x', password: 'x-pw' },
    ]);
    expect((await plugin.calls())[0]!.request).toEqual({
      kind: 'CredentialProviderRequest',
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      image: 'r.example.com/app',
    });
  });

  it('gives no credentials (as upstream, an error line) when the service account cannot be read', async () => {
    const plugin = await writeFakeProvider(binDir, 'sa');
    await plugin.respond({ cacheKeyType: 'Image', auth: auth('x') });
    const set = providers([tokenSpec('ServiceAccount')], { tokens: tokenSources().tokens });
    expect(await set.lookup('r.example.com/app', pod('web', 'builder'))).toEqual([]);
    expect(errors).toEqual([
      'Failed to get service account team/builder: this kubelet has no API server to read service accounts from',
    ]);
    expect(await plugin.calls()).toHaveLength(0);
  });
});

describe('loading --image-credential-provider-config with --image-credential-provider-bin-dir', () => {
  it('requires the bin dir and each provider binary, and validates the file', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'apiVersion: kubelet.config.k8s.io/v1',
        'kind: CredentialProviderConfig',
        'providers:',
        '  - name: ecr-credential-provider',
        '    matchImages: ["*.dkr.ecr.*.amazonaws.com"]',
        '    defaultCacheDuration: 12h',
        '    apiVersion: credentialprovider.kubelet.k8s.io/v1',
      ].join('\n'),
    );
    await expect(ImageCredentialProviders.load({ configPath: config, binDir })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIAL_PROVIDER_CONFIG',
      field: '--image-credential-provider-bin-dir',
      message: `plugin binary directory ${binDir} did not exist`,
    });
    await writeFakeProvider(binDir, 'other');
    await expect(ImageCredentialProviders.load({ configPath: config, binDir })).rejects.toMatchObject({
      message: `plugin binary executable ${join(binDir, 'ecr-credential-provider')} did not exist`,
    });
    await writeFakeProvider(binDir, 'ecr-credential-provider');
    const registry = new Registry();
    const set = await ImageCredentialProviders.load({ configPath: config, binDir, registry });
    expect(await registry.metrics()).toMatch(
      /kubelet_credential_provider_config_info\{hash="sha256:[0-9a-f]{64}"\} 1/,
    );
    expect(set.providers.map((p) => p.name)).toEqual(['ecr-credential-provider']);
    expect(set.providers[0]!.isImageAllowed('123.dkr.ecr.us-east-1.amazonaws.com/app')).toBe(true);
    expect(set.providers[0]!.isImageAllowed('123.dkr.ecr.amazonaws.com/app')).toBe(false);
  });

  it('runs no plugins without either flag, and needs both when one is given', async () => {
    expect(await imageCredentialProvidersFromFlags({})).toBeUndefined();
    expect(await imageCredentialProvidersFromFlags({ configPath: '', binDir: '' })).toBeUndefined();
    await expect(
      imageCredentialProvidersFromFlags({ configPath: join(dir, 'c.yaml') }),
    ).rejects.toMatchObject({
      field: '--image-credential-provider-bin-dir',
      message: 'plugin binary directory  did not exist',
    });
    await writeFakeProvider(binDir, 'p');
    await expect(imageCredentialProvidersFromFlags({ binDir })).rejects.toMatchObject({
      field: '--image-credential-provider-config',
      message: 'credential provider config path is empty',
    });
  });

  it('reads a ServiceAccount for token mode from the API server', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          kind: 'ServiceAccount',
          metadata: {
            name: 'builder',
            namespace: 'team',
            uid: 'sa-uid',
            annotations: { 'example.com/role': 'r' },
          },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [
          {
            name: 'c',
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      expect(await apiServiceAccountGetter(kubeConfig)('team', 'builder')).toEqual({
        uid: 'sa-uid',
        annotations: { 'example.com/role': 'r' },
      });
      expect(requests).toEqual(['GET /api/v1/namespaces/team/serviceaccounts/builder']);
    } finally {
      server.close();
    }
  });
});
