import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';
import { stripDefaults, withoutTokenVolume } from './fixtures/pod-defaults-stripper';
import { type StoredPod, storedPods } from './fixtures/stored-pods';

describe('in-process API server defaulting against pods a real v1.32 server stored', () => {
  let server: ApiServer;
  beforeAll(async () => {
    server = await startApiServer();
    await fetch(`${server.url}/api/v1/namespaces`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stored' } }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const pods = storedPods();
  it('reads all sixteen stored pods', () => {
    expect(pods.map((p) => p.metadata.name)).toHaveLength(16);
  });

  for (const stored of pods) {
    it(`gives back ${stored.metadata.name} from its shape without defaults`, async () => {
      const expected = withoutTokenVolume(structuredClone(stored));
      const input = stripDefaults(structuredClone(expected));
      // The stripped shape really lacks what the server must fill in.
      expect(JSON.stringify(input.spec)).not.toEqual(JSON.stringify(expected.spec));
      const { uid: _uid, ...metadata } = input.metadata;
      const res = await fetch(`${server.url}/api/v1/namespaces/stored/pods`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...input, metadata }),
      });
      const created = (await res.json()) as StoredPod;
      expect(res.status, JSON.stringify(created)).toBe(201);
      expect(created.spec).toEqual(expected.spec);
      expect(created.metadata.labels).toEqual(expected.metadata.labels);
      expect(created.status).toMatchObject({ phase: 'Pending' });
    });
  }

  it('computes the QoS class the pod strategy does', async () => {
    const get = async (name: string) =>
      ((await (await fetch(`${server.url}/api/v1/namespaces/stored/pods/${name}`)).json()) as StoredPod)
        .status.qosClass;
    expect(await get('downward-volume')).toBe('Guaranteed');
    expect(await get('full')).toBe('Burstable');
    expect(await get('done')).toBe('BestEffort');
  });
});
