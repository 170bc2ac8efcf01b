import { CoreV1Api } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Secret } from '../src/api/pod-types';
import { apiTokenSource } from '../src/sources/api-clients';
import { effectivePullPolicy } from '../src/sync/image-puller';
import { imageRegistry, pullCredentials } from '../src/sync/pull-secrets';

let server: ApiServer;
let core: CoreV1Api;
beforeAll(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server?.close();
});

describe('API clients', () => {
  it('reuses a service account token until 80 % of its lifetime passed', async () => {
    let now = Date.now();
    const tokens = apiTokenSource(core, { now: () => now });
    const request = {
      namespace: 'default',
      serviceAccountName: 'default',
      audiences: ['api'],
      expirationSeconds: 3600,
      boundPod: { name: 'p', uid: 'u-1' },
    };
    const first = await tokens.getToken(request);
    expect(first.length).toBeGreaterThan(0);
    now += 60_000;
    expect(await tokens.getToken(request)).toBe(first);
    now += 0.8 * 3_600_000;
    const second = await tokens.getToken(request);
    expect(second.length).toBeGreaterThan(0);
    // A different pod never shares a token.
    expect(await tokens.getToken({ ...request, boundPod: { name: 'q', uid: 'u-2' } })).not.toBe(
      await tokens.getToken(request),
    );
  });

  it('serves projected volumes and CSI drivers from one cache, which a pod lets go of at once', async () => {
    let now = Date.now();
    const tokens = apiTokenSource(core, { now: () => now });
    const projected = {
      namespace: 'default',
      serviceAccountName: 'default',
      audiences: ['vault'],
      expirationSeconds: 3600,
      boundPod: { name: 'p', uid: 'u-3' },
    };
    const token = await tokens.getToken(projected);
    // The same request from a CSI driver's tokenRequests gets the same token, with its expiry.
    const csi = await tokens.requestToken(projected);
    expect(csi.token).toBe(token);
    expect(Date.parse(csi.expirationTimestamp)).toBeGreaterThan(now + 3_500_000);
    // A driver's request without expirationSeconds is its own (the server's default lifetime).
    const { expirationSeconds: _, ...unset } = projected;
    expect((await tokens.requestToken(unset)).token).not.toBe(token);
    await tokens.getToken({ ...projected, boundPod: { name: 'q', uid: 'u-4' } });
    expect(tokens.size).toBe(3);
    // The pod's volumes torn down: its tokens go, projected and CSI ones alike; the other pod's stay.
    tokens.forgetPod('u-3');
    expect(tokens.size).toBe(1);
    now += 1_000;
    expect((await tokens.requestToken(projected)).token).not.toBe(token);
  });
});

describe('image pulls', () => {
  it('defaults imagePullPolicy like upstream', () => {
    expect(effectivePullPolicy({ name: 'a', image: 'busybox' })).toBe('Always');
    expect(effectivePullPolicy({ name: 'a', image: 'busybox:latest' })).toBe('Always');
    expect(effectivePullPolicy({ name: 'a', image: 'busybox:1.36' })).toBe('IfNotPresent');
    expect(effectivePullPolicy({ name: 'a', image: 'localhost:5000/busybox' })).toBe('Always');
    expect(effectivePullPolicy({ name: 'a', image: 'busybox@sha256:abc' })).toBe('IfNotPresent');
    expect(effectivePullPolicy({ name: 'a', image: 'busybox:1', imagePullPolicy: 'Never' })).toBe('Never');
  });

  it('finds credentials for the image registry in dockerconfigjson pull secrets', () => {
    const dockerConfig = (auths: object): Secret => ({
      metadata: { name: 's' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
    });
    const secrets = [
      dockerConfig({ 'registry.example.com': { username: 'u1', password: 'p1' } }),
      dockerConfig({ 'https://index.docker.io/v1/': { auth: Buffer.from('u2:p2').toString('base64') } }),
    ];
    expect(imageRegistry('registry.example.com/team/app:1')).toBe('registry.example.com');
    expect(imageRegistry('library/busybox')).toBe('docker.io');
    expect(pullCredentials('registry.example.com/team/app:1', secrets)).toEqual([
      {
        username: 'u1',
        password: 'p1',
        // Which secret the credential came from: verified pulls (KEP-2535) record it.
        source: { secret: { name: 's', namespace: '', uid: '' } },
      },
    ]);
    expect(pullCredentials('busybox:1', secrets)).toEqual([
      {
        username: 'u2',
        password: 'p2',
        source: { secret: { name: 's', namespace: '', uid: '' } },
      },
    ]);
    expect(pullCredentials('quay.io/x/y', secrets)).toEqual([]);
  });
});
