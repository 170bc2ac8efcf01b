import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';
import { isServiceAccountVolume, type StoredPod, storedPods } from './fixtures/stored-pods';

// biome-ignore lint/suspicious/noExplicitAny: the stripper walks arbitrary wire JSON
type Any = any;

const isEmpty = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

function dropIf(obj: Any, key: string, value: unknown): void {
  if (obj && JSON.stringify(obj[key]) === JSON.stringify(value)) delete obj[key];
}

/** The tag a reference carries ("latest" with neither tag nor digest), for imagePullPolicy. */
function defaultPullPolicy(image: string): string {
  const name = image.split('@')[0] as string;
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : image.includes('@') ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function stripDownwardItems(items: Any[] | undefined): void {
  for (const item of items ?? []) {
    dropIf(item.fieldRef, 'apiVersion', 'v1');
    dropIf(item.resourceFieldRef, 'divisor', '0');
  }
}

/**
 * Removes every field a real server would have filled in by defaulting or admission, where it
 * holds the value the server would have put there: what a user could have sent to get this pod.
 */
function stripDefaults(pod: StoredPod): StoredPod {
  const spec = pod.spec;
  for (const [key, value] of [
    ['dnsPolicy', 'ClusterFirst'],
    ['restartPolicy', 'Always'],
    ['securityContext', {}],
    ['terminationGracePeriodSeconds', 30],
    ['schedulerName', 'default-scheduler'],
    ['enableServiceLinks', true],
    ['priority', 0],
    ['preemptionPolicy', 'PreemptLowerPriority'],
    ['serviceAccountName', 'default'],
  ] as const)
    dropIf(spec, key, value);
  delete spec.serviceAccount;
  dropIf(spec, 'tolerations', [
    { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
    {
      effect: 'NoExecute',
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      tolerationSeconds: 300,
    },
  ]);
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    dropIf(c, 'imagePullPolicy', defaultPullPolicy(c.image));
    dropIf(c, 'terminationMessagePath', '/dev/termination-log');
    dropIf(c, 'terminationMessagePolicy', 'File');
    const { limits, requests } = c.resources ?? {};
    for (const name of Object.keys(requests ?? {}))
      if (requests[name] === limits?.[name]) delete requests[name];
    if (requests && isEmpty(requests)) delete c.resources.requests;
    if (isEmpty(c.resources)) delete c.resources;
    for (const p of c.ports ?? []) dropIf(p, 'protocol', 'TCP');
    for (const e of c.env ?? []) {
      dropIf(e.valueFrom?.fieldRef, 'apiVersion', 'v1');
      dropIf(e.valueFrom?.resourceFieldRef, 'divisor', '0');
    }
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (!probe) continue;
      for (const [key, value] of [
        ['timeoutSeconds', 1],
        ['periodSeconds', 10],
        ['successThreshold', 1],
        ['failureThreshold', 3],
      ] as const)
        dropIf(probe, key, value);
    }
  }
  for (const v of spec.volumes ?? []) {
    for (const source of [v.secret, v.configMap, v.downwardAPI, v.projected])
      dropIf(source, 'defaultMode', 420);
    stripDownwardItems(v.downwardAPI?.items);
    for (const s of v.projected?.sources ?? []) {
      stripDownwardItems(s.downwardAPI?.items);
      dropIf(s.serviceAccountToken, 'expirationSeconds', 3600);
    }
  }
  return pod;
}

/**
 * The stored pod without the projected service-account token volume and its mounts: the
 * ServiceAccount admission plugin's token volume (and this cluster's extra service-ca.crt
 * source) is not something the in-process server adds.
 */
function withoutTokenVolume(pod: StoredPod): StoredPod {
  const spec = pod.spec;
  spec.volumes = (spec.volumes ?? []).filter((v: Any) => !isServiceAccountVolume(v.name));
  if (spec.volumes.length === 0) delete spec.volumes;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    c.volumeMounts = (c.volumeMounts ?? []).filter((m: Any) => !isServiceAccountVolume(m.name));
    if (c.volumeMounts.length === 0) delete c.volumeMounts;
  }
  return pod;
}

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
