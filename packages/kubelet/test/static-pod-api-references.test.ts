import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStaticPods } from '../src/sources/static-pod-source';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'na-static-refs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function manifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  });
}

describe('static pods may not reference API objects (PreventStaticPodAPIReferences, on in v1.36)', () => {
  it("refuses each reference with upstream's words and keeps the pods that reference nothing", async () => {
    const cases: Record<string, [Record<string, unknown>, string | undefined]> = {
      plain: [
        {
          volumes: [
            { name: 'h', hostPath: { path: '/etc' } },
            { name: 'e', emptyDir: {} },
            { name: 'p', projected: { sources: [{ downwardAPI: { items: [] } }] } },
          ],
        },
        undefined,
      ],
      sa: [{ serviceAccountName: 'default' }, 'serviceaccounts'],
      pullsecret: [{ imagePullSecrets: [{ name: 'reg' }] }, 'secrets'],
      envsecret: [
        {
          containers: [
            {
              name: 'c',
              image: 'busybox',
              env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
            },
          ],
        },
        'secrets',
      ],
      envfromcm: [
        { containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: 'cm' } }] }] },
        'configmaps',
      ],
      cmvolume: [{ volumes: [{ name: 'v', configMap: { name: 'cm' } }] }, 'configmaps'],
      claims: [{ resourceClaims: [{ name: 'gpu', resourceClaimName: 'gpu' }] }, 'resourceclaims'],
      pvc: [
        { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] },
        'persistentvolumeclaims',
      ],
      ephemeral: [
        { volumes: [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: {} } } }] },
        'persistentvolumeclaims (via ephemeral volumes)',
      ],
      csi: [
        { volumes: [{ name: 'v', csi: { driver: 'hostpath.csi.k8s.io' } }] },
        'csidrivers (via CSI volumes)',
      ],
      token: [
        { volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }] },
        'serviceaccounts (via projected volumes)',
      ],
    };
    for (const [name, [spec]] of Object.entries(cases))
      await writeFile(join(dir, `${name}.yaml`), manifest(name, spec));

    const { pods, errors } = await readStaticPods(dir, 'node-a', '2026-01-01T00:00:00Z');

    expect(pods.map((p) => p.metadata.name)).toEqual(['plain-node-a']);
    const messages = Object.fromEntries(
      errors.map((e) => [e.file.slice(dir.length + 1, -5), e.error.message]),
    );
    for (const [name, [, resource]] of Object.entries(cases))
      if (resource) expect(messages[name]).toBe(`static pods may not reference ${resource}`);
    expect(errors).toHaveLength(Object.keys(cases).length - 1);
  });

  it("refuses a volume of a type upstream does not know, naming the volume as upstream's check does", async () => {
    await writeFile(join(dir, 'odd.yaml'), manifest('odd', { volumes: [{ name: 'x', madeUp: {} }] }));
    const { pods, errors } = await readStaticPods(dir, 'node-a', '2026-01-01T00:00:00Z');
    expect(pods).toEqual([]);
    expect(errors[0]?.error.message).toBe('unknown volume type for volume  "x"');
  });
});
