import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Secret } from '../src/api/pod-types';
import {
  type CredentialProviderSpec,
  credentialProviderConfigErrors,
  decodeCredentialProviderConfig,
  readCredentialProviderConfig,
  validateCredentialProviderConfig,
} from '../src/images/credential-provider/credential-provider-config';
import { DockerKeyring, repositoryToPull } from '../src/images/credential-provider/docker-keyring';
import { urlsMatchStr } from '../src/images/credential-provider/image-url-match';
import { pullCredentials } from '../src/sync/pull-secrets';

const valid: CredentialProviderSpec = {
  name: 'ecr',
  matchImages: ['*.dkr.ecr.*.amazonaws.com'],
  defaultCacheDurationMs: 12 * 3_600_000,
  apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
  args: [],
  env: [],
};
const errorsOf = (...providers: Partial<CredentialProviderSpec>[]) =>
  credentialProviderConfigErrors({ providers: providers.map((p) => ({ ...valid, ...p })) });

describe('CredentialProviderConfig validation (upstream validateCredentialProviderConfig)', () => {
  it('accepts a valid provider and requires at least one', () => {
    expect(errorsOf({})).toEqual([]);
    expect(credentialProviderConfigErrors({ providers: [] })).toEqual([
      'providers: Required value: at least 1 item in plugins is required',
    ]);
  });

  it('names each bad field with upstream words', () => {
    expect(errorsOf({ name: 'a/b c' })).toEqual([
      `providers.name: Invalid value: "a/b c": provider name cannot contain '/'`,
      'providers.name: Invalid value: "a/b c": provider name cannot contain spaces',
    ]);
    expect(errorsOf({ name: '..' })).toEqual([
      `providers.name: Invalid value: "..": provider name cannot be '..'`,
    ]);
    expect(errorsOf({}, {})).toEqual(['providers.name: Duplicate value: "ecr"']);
    expect(errorsOf({ apiVersion: '' })).toEqual(['providers.apiVersion: Required value']);
    expect(errorsOf({ apiVersion: 'credentialprovider.kubelet.k8s.io/v2' })).toEqual([
      'providers.apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v2": supported values: "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"',
    ]);
    expect(errorsOf({ matchImages: [] })).toEqual([
      'providers.matchImages: Required value: at least 1 item in matchImages is required',
    ]);
    expect(errorsOf({ matchImages: ['registry.io:port'] })).toEqual([
      'providers.matchImages: Invalid value: "registry.io:port": match image is invalid: parse "https://registry.io:port": invalid port ":port" after host',
    ]);
    expect(errorsOf({ defaultCacheDurationMs: undefined })).toEqual([
      'providers.defaultCacheDuration: Required value',
    ]);
    expect(errorsOf({ defaultCacheDurationMs: -60_000 })).toEqual([
      'providers.defaultCacheDuration: Invalid value: -1m0s: must be greater than or equal to 0',
    ]);
  });

  it('validates tokenAttributes', () => {
    const token = (
      t: Partial<NonNullable<CredentialProviderSpec['tokenAttributes']>>,
      apiVersion = valid.apiVersion,
    ) =>
      errorsOf({
        apiVersion,
        tokenAttributes: {
          serviceAccountTokenAudience: 'aud',
          requireServiceAccount: true,
          requiredServiceAccountAnnotationKeys: [],
          optionalServiceAccountAnnotationKeys: [],
          cacheType: 'ServiceAccount',
          ...t,
        },
      });
    expect(token({})).toEqual([]);
    expect(
      token({ serviceAccountTokenAudience: '', requireServiceAccount: undefined, cacheType: '' }),
    ).toEqual([
      'providers.tokenAttributes.serviceAccountTokenAudience: Required value',
      'providers.tokenAttributes.requireServiceAccount: Required value',
      'providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token',
    ]);
    expect(token({ cacheType: 'Pod' })).toEqual([
      'providers.tokenAttributes.cacheType: Unsupported value: "Pod": supported values: "ServiceAccount", "Token"',
    ]);
    expect(token({}, 'credentialprovider.kubelet.k8s.io/v1beta1')).toEqual([
      'providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version',
    ]);
    expect(token({ requireServiceAccount: false, requiredServiceAccountAnnotationKeys: ['a.io/x'] })).toEqual(
      [
        'providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set',
      ],
    );
    expect(
      token({
        requiredServiceAccountAnnotationKeys: ['a.io/x', 'a.io/x'],
        optionalServiceAccountAnnotationKeys: ['a.io/x', 'bad key'],
      }),
    ).toEqual([
      'providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Duplicate value: "a.io/x"',
      `providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      'providers.tokenAttributes: Invalid value: []string{"a.io/x"}: annotation keys cannot be both required and optional',
    ]);
    expect(
      credentialProviderConfigErrors(
        {
          providers: [
            {
              ...valid,
              tokenAttributes: {
                serviceAccountTokenAudience: 'a',
                requireServiceAccount: true,
                requiredServiceAccountAnnotationKeys: [],
                optionalServiceAccountAnnotationKeys: [],
                cacheType: 'Token',
              },
            },
          ],
        },
        false,
      ),
    ).toEqual([
      'providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled',
    ]);
  });

  it('throws one typed error naming the flag, with every problem aggregated as upstream', () => {
    expect(() =>
      validateCredentialProviderConfig(
        { providers: [{ ...valid, name: '.', matchImages: [] }] },
        '/etc/cp.yaml',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_CREDENTIAL_PROVIDER_CONFIG',
        field: '--image-credential-provider-config',
        value: '/etc/cp.yaml',
        message:
          `failed to validate credential provider config: [providers.name: Invalid value: ".": provider name cannot be '.', ` +
          'providers.matchImages: Required value: at least 1 item in matchImages is required]',
      }),
    );
  });
});

describe('CredentialProviderConfig files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-credprov-config-${process.pid}-`));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const doc = (name: string, extra = '') =>
    `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ${name}\n    matchImages: ["*.io"]\n    defaultCacheDuration: 1m30s\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n${extra}`;

  it('decodes YAML or JSON strictly, with the right group and kind', () => {
    expect(
      decodeCredentialProviderConfig(doc('a', '    args: [x]\n    env: [{name: K, value: V}]\n'), 'f')
        .providers,
    ).toEqual([
      {
        name: 'a',
        matchImages: ['*.io'],
        defaultCacheDurationMs: 90_000,
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        args: ['x'],
        env: [{ name: 'K', value: 'V' }],
        tokenAttributes: undefined,
      },
    ]);
    expect(() => decodeCredentialProviderConfig(doc('a', '    image: x\n'), 'f.yaml')).toThrow(
      'error decoding config "f.yaml": strict decoding error: unknown field "providers[0].image"',
    );
    expect(() =>
      decodeCredentialProviderConfig(
        JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'KubeletConfiguration' }),
        'f',
      ),
    ).toThrow('error decoding config "f": failed to decode "KubeletConfiguration" (wrong Kind)');
    expect(() =>
      decodeCredentialProviderConfig(
        JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CredentialProviderConfig' }),
        'f',
      ),
    ).toThrow(
      'error decoding config "f": failed to decode CredentialProviderConfig, unexpected Group: example.com',
    );
    expect(() => decodeCredentialProviderConfig(doc('a').replace('1m30s', 'soon'), 'f')).toThrow(
      'error decoding config "f": time: invalid duration "soon"',
    );
  });

  it('reads a directory of *.json/*.yaml/*.yml in lexical order and refuses a provider named twice', async () => {
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd', '20-b.yml'), doc('b'));
    await writeFile(join(dir, 'd', '10-a.yaml'), doc('a'));
    await writeFile(join(dir, 'd', 'notes.txt'), 'ignored');
    const read = await readCredentialProviderConfig(join(dir, 'd'));
    expect(read.config.providers.map((p) => p.name)).toEqual(['a', 'b']);
    // Upstream's hash: every file's 8-byte big-endian length, then its bytes, in file order.
    const hasher = createHash('sha256');
    for (const text of [doc('a'), doc('b')]) {
      const length = Buffer.alloc(8);
      length.writeBigUInt64BE(BigInt(Buffer.byteLength(text)));
      hasher.update(length).update(text);
    }
    expect(read.hash).toBe(`sha256:${hasher.digest('hex')}`);
    await writeFile(
      join(dir, 'd', '30-a.json'),
      JSON.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1',
        kind: 'CredentialProviderConfig',
        providers: [{ name: 'a' }],
      }),
    );
    await expect(readCredentialProviderConfig(join(dir, 'd'))).rejects.toThrow(
      'duplicate provider name "a" found in configuration file(s)',
    );
    await mkdir(join(dir, 'empty'));
    await expect(readCredentialProviderConfig(join(dir, 'empty'))).rejects.toThrow(
      `no configuration files found in directory "${join(dir, 'empty')}"`,
    );
    await expect(readCredentialProviderConfig(join(dir, 'missing'))).rejects.toThrow(
      `unable to access path "${join(dir, 'missing')}"`,
    );
  });
});

describe('image matching and the keyring (upstream credentialprovider)', () => {
  it('matches host globs label by label, the port exactly and the path as a prefix', () => {
    expect(urlsMatchStr('*.docker.io', 'blah.docker.io/app')).toBe(true);
    expect(urlsMatchStr('*.docker.io', 'not.right.io/app')).toBe(false);
    expect(urlsMatchStr('*.docker.io', 'docker.io/app')).toBe(false);
    expect(urlsMatchStr('*.*.registry.io', 'a.b.registry.io/x')).toBe(true);
    expect(urlsMatchStr('registry.io:5000', 'registry.io:5000/x')).toBe(true);
    expect(urlsMatchStr('registry.io:5000', 'registry.io/x')).toBe(false);
    expect(urlsMatchStr('registry.io', 'registry.io:5000/x')).toBe(false);
    expect(urlsMatchStr('registry.io/team', 'registry.io/team/app')).toBe(true);
    expect(urlsMatchStr('registry.io/team', 'registry.io/other/app')).toBe(false);
    expect(urlsMatchStr('regi[s-u]try.[a-c]o', 'registry.io/x')).toBe(false);
    expect(urlsMatchStr('regi[s-u]try.[h-j]o', 'registry.io/x')).toBe(true);
  });

  it('looks up the most specific entry first and falls back to Docker Hub credentials for hub images', () => {
    const keyring = new DockerKeyring();
    keyring.add({
      'https://registry.io': { username: 'host', password: '' },
      'registry.io/team': { username: 'team', password: '' },
      'https://index.docker.io/v1/': { username: 'hub', password: '' },
    });
    expect(keyring.lookup('registry.io/team/app').map((c) => c.username)).toEqual(['team', 'host']);
    expect(keyring.lookup('registry.io/other').map((c) => c.username)).toEqual(['host']);
    expect(keyring.lookup(repositoryToPull('busybox:1.36')).map((c) => c.username)).toEqual(['hub']);
    expect(keyring.lookup('quay.io/x')).toEqual([]);
  });

  it('reads pull secrets into one keyring: most specific entry first across secrets, typed secrets only', () => {
    const secret = (type: string, key: string, auths: object): Secret => ({
      metadata: { name: 's' },
      type,
      data: { [key]: Buffer.from(JSON.stringify(auths)).toString('base64') },
    });
    const secrets = [
      secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', {
        auths: { 'registry.example.com': { username: 'host', password: '1' } },
      }),
      secret('kubernetes.io/dockercfg', '.dockercfg', {
        'registry.example.com/team': { auth: Buffer.from('team:2').toString('base64'), username: 'ignored' },
        'registry.example.com/other': { username: 'other', password: '3' },
      }),
      secret('Opaque', '.dockerconfigjson', {
        auths: { 'registry.example.com': { username: 'opaque', password: '4' } },
      }),
    ];
    expect(pullCredentials('registry.example.com/team/app:1', secrets).map((c) => c.username)).toEqual([
      'team',
      'host',
    ]);
    expect(pullCredentials('sub.registry.example.com/team/app:1', secrets)).toEqual([]);
  });

  it('asks about the repository to pull, as upstream ParseImageName names it', () => {
    expect(repositoryToPull('busybox:1.36')).toBe('docker.io/library/busybox');
    expect(repositoryToPull('team/app')).toBe('docker.io/team/app');
    expect(repositoryToPull('registry.io:5000/team/app:v1@sha256:abc')).toBe('registry.io:5000/team/app');
    expect(repositoryToPull('localhost/app:1')).toBe('localhost/app');
  });
});
