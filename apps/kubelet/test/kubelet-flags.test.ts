import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError } from '@nodeagent/kubelet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvictionFlag, parseTaintsFlag } from '../src/flag-values';
import { resolveKubeletOptions } from '../src/kubelet-flags';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-flags-${process.pid}-`));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveKubeletOptions', () => {
  it('uses upstream defaults without flags', async () => {
    const { flags, config } = await resolveKubeletOptions([]);
    expect(flags.rootDir).toBe('/var/lib/kubelet');
    expect(flags.v).toBe(0);
    expect(config.port).toBe(10250);
    expect(config.registerNode).toBe(true);
  });

  it('lets flags override the config file', async () => {
    const path = join(dir, 'kubelet.yaml');
    await writeFile(
      path,
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 50\nclusterDomain: cluster.local\nregisterNode: true\nstaticPodPath: /etc/kubernetes/manifests\n',
    );
    const { flags, config } = await resolveKubeletOptions([
      '--config',
      path,
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--hostname-override',
      'node-a',
      '--node-ip=192.168.1.5,fd00::5',
      '--root-dir',
      '/tmp/kubelet-root',
      '--max-pods=20',
      '--container-runtime-endpoint=unix:///tmp/containerd.sock',
      '--register-node=false',
      '--pod-manifest-path',
      '/tmp/manifests',
      '--cluster-dns=10.96.0.10',
      '--eviction-hard=memory.available<200Mi,nodefs.available<5%',
      '--register-with-taints=dedicated=gpu:NoSchedule',
      '--anonymous-auth=false',
      '--v=4',
    ]);
    expect(flags).toMatchObject({
      kubeconfig: '/etc/kubernetes/kubelet.conf',
      hostnameOverride: 'node-a',
      nodeIP: ['192.168.1.5', 'fd00::5'],
      rootDir: '/tmp/kubelet-root',
      v: 4,
    });
    expect(config.maxPods).toBe(20);
    expect(config.clusterDomain).toBe('cluster.local');
    expect(config.containerRuntimeEndpoint).toBe('unix:///tmp/containerd.sock');
    expect(config.registerNode).toBe(false);
    expect(config.staticPodPath).toBe('/tmp/manifests');
    expect(config.clusterDNS).toEqual(['10.96.0.10']);
    expect(config.evictionHard).toEqual({ 'memory.available': '200Mi', 'nodefs.available': '5%' });
    expect(config.registerWithTaints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.authentication.webhook.enabled).toBe(true);
  });

  it('names the flag and value when a flag is invalid', async () => {
    await expect(resolveKubeletOptions(['--max-pods=lots'])).rejects.toMatchObject({
      field: '--max-pods',
      value: 'lots',
    });
    await expect(resolveKubeletOptions(['--max-pods=-4'])).rejects.toMatchObject({
      field: '--max-pods',
      value: -4,
    });
    await expect(resolveKubeletOptions(['--sync-frequency=often'])).rejects.toMatchObject({
      field: '--sync-frequency',
      value: 'often',
    });
    await expect(resolveKubeletOptions(['--register-node=maybe'])).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(resolveKubeletOptions(['--cluster-dns=dns.local'])).rejects.toMatchObject({
      field: '--cluster-dns',
    });
  });

  it('names the config file field when the file is invalid', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageGCHighThresholdPercent: 120\n',
    );
    await expect(resolveKubeletOptions(['--config', path])).rejects.toMatchObject({
      field: 'imageGCHighThresholdPercent',
      value: 120,
    });
  });

  it('rejects unknown flags', async () => {
    await expect(resolveKubeletOptions(['--no-such-flag'])).rejects.toThrow();
  });
});

describe('flag value syntaxes', () => {
  it('parses eviction and taint lists', () => {
    expect(parseEvictionFlag('eviction-hard', 'memory.available<1Gi, imagefs.available<20%')).toEqual({
      'memory.available': '1Gi',
      'imagefs.available': '20%',
    });
    expect(() => parseEvictionFlag('eviction-hard', 'memory.available=1Gi')).toThrow(InvalidConfigError);
    expect(parseTaintsFlag('register-with-taints', 'a=b:NoExecute,c:PreferNoSchedule')).toEqual([
      { key: 'a', value: 'b', effect: 'NoExecute' },
      { key: 'c', effect: 'PreferNoSchedule' },
    ]);
    expect(() => parseTaintsFlag('register-with-taints', 'a=b:Never')).toThrow(InvalidConfigError);
  });
});
