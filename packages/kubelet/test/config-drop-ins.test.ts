import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listDropInFiles,
  mergeConfigurationDropIns,
  mergeConfigurationPatch,
} from '../src/config/config-drop-ins';
import { applyV1beta1ZeroDefaults } from '../src/config/v1beta1-defaults';

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-dropins-${process.pid}-`));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--config-dir drop-ins', () => {
  it('merges like a JSON merge patch: objects key by key, lists and scalars replaced, null removes', () => {
    const base = {
      port: 1,
      clusterDNS: ['a', 'b'],
      authorization: { mode: 'Webhook', webhook: { x: 1, y: 2 } },
    };
    expect(
      mergeConfigurationPatch(base, { clusterDNS: ['c'], authorization: { webhook: { y: 3 } }, port: null }),
    ).toEqual({ clusterDNS: ['c'], authorization: { mode: 'Webhook', webhook: { x: 1, y: 3 } } });
    expect(base.port).toBe(1);
  });

  it('lists *.conf files of the directory and its subdirectories in lexical order of their paths', async () => {
    const root = join(dir, 'order');
    await mkdir(join(root, '20-sub'), { recursive: true });
    for (const file of ['30-c.conf', '10-a.conf', '20-sub/05-b.conf', 'notes.txt', '40-d.conf.bak'])
      await writeFile(join(root, file), header);
    expect((await listDropInFiles(root)).map((file) => file.slice(root.length + 1))).toEqual([
      '10-a.conf',
      '20-sub/05-b.conf',
      '30-c.conf',
    ]);
  });

  it("resolves a drop-in's relative paths against its own directory", async () => {
    const root = join(dir, 'paths');
    await mkdir(join(root, 'nested'), { recursive: true });
    await writeFile(join(root, 'nested', '10-static.conf'), `${header}staticPodPath: manifests\n`);
    const merged = await mergeConfigurationDropIns({ staticPodPath: '/etc/kubernetes/manifests' }, root);
    expect(merged.staticPodPath).toBe(join(root, 'nested', 'manifests'));
  });
});

describe('v1beta1 zero-value defaulting', () => {
  it('drops zero values upstream defaults, keeps explicit values of pointer fields', () => {
    expect(
      applyV1beta1ZeroDefaults({
        syncFrequency: '0s',
        port: 0,
        address: '',
        healthzPort: 0,
        enableServer: false,
        readOnlyPort: 0,
        podPidsLimit: -7,
        authorization: { mode: '', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '45s' } },
      }),
    ).toEqual({
      healthzPort: 0,
      enableServer: false,
      readOnlyPort: 0,
      podPidsLimit: -1,
      serializeImagePulls: true,
      authorization: { webhook: { cacheUnauthorizedTTL: '45s' } },
    });
  });
});
