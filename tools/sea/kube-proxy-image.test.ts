import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSea } from './build.mjs';
import { buildKubeProxyImage, type KubeProxyImage } from './kube-proxy-image';
import { REPO_ROOT } from './node-runtime.mjs';

const run = promisify(execFile);

const SERVICE_YAML = `apiVersion: v1
kind: Service
metadata: { name: img-check, namespace: default }
spec:
  type: NodePort
  clusterIP: 10.96.8.8
  clusterIPs: [10.96.8.8]
  ports: [{ name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30088 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: img-check-1
  namespace: default
  labels: { kubernetes.io/service-name: img-check }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
  - { addresses: [10.244.8.1], conditions: { ready: true } }
  - { addresses: [10.244.8.2], conditions: { ready: true } }
`;

// Builds the kube-proxy executable and its image, unpacks the image's layer from the OCI archive
// and runs the image's own tools chrooted into it, inside a throwaway network namespace.
describe('kube-proxy OCI image', { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), `na-kpimg-${process.pid}-`));
  const rootfs = join(work, 'unpacked');
  const netns = `na-kpimg-${process.pid}-${randomBytes(3).toString('hex')}`;
  const version = JSON.parse(readFileSync(join(REPO_ROOT, 'apps/kube-proxy/package.json'), 'utf8')).version;
  let image: KubeProxyImage;

  // The image's binaries, in the namespace, with a clean environment.
  const inImage = (args: string[], input?: string) =>
    execFileSync('ip', ['netns', 'exec', netns, 'chroot', rootfs, ...args], {
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/local/bin:/usr/sbin:/usr/bin' },
    });

  beforeAll(async () => {
    const [binary] = await buildSea({ outDir: join(work, 'bin'), names: ['nodeagent-kube-proxy'] });
    if (!binary) throw new Error('tools/sea/build.mjs built no nodeagent-kube-proxy');
    image = await buildKubeProxyImage({ binary: binary.path, tag: version, outDir: join(work, 'out') });
    const layout = join(work, 'layout');
    mkdirSync(layout);
    await run('tar', ['-xf', image.archive, '-C', layout]);
    const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.replace('sha256:', ''));
    const manifest = JSON.parse(readFileSync(blob(image.manifestDigest), 'utf8'));
    mkdirSync(rootfs);
    await run('tar', ['-xf', blob(manifest.layers[0].digest), '-C', rootfs]);
    await run('ip', ['netns', 'add', netns]);
  }, 180_000);

  afterAll(async () => {
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('is named localhost/nodeagent/kube-proxy:<version> with the executable as entrypoint', () => {
    const layout = join(work, 'layout');
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe(
      `localhost/nodeagent/kube-proxy:${version}`,
    );
    const manifest = JSON.parse(
      readFileSync(join(layout, 'blobs', 'sha256', image.manifestDigest.slice(7)), 'utf8'),
    );
    const config = JSON.parse(
      readFileSync(join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'),
    );
    expect(config.config.Entrypoint).toEqual(['/usr/local/bin/nodeagent-kube-proxy']);
    expect(`sha256:${manifest.config.digest.slice(7)}`).toBe(image.id);
  });

  it('holds the executable, the netfilter tools, their libraries and the xtables extensions, and no shell', () => {
    for (const path of [
      'usr/local/bin/nodeagent-kube-proxy',
      'usr/sbin/iptables-restore',
      'usr/sbin/ip6tables-save',
      'usr/sbin/nft',
      'usr/sbin/ipset',
      'usr/sbin/conntrack',
      'usr/lib/x86_64-linux-gnu/xtables/libxt_comment.so',
      'usr/lib/x86_64-linux-gnu/xtables/libxt_statistic.so',
      'lib64/ld-linux-x86-64.so.2',
    ]) {
      expect(existsSync(join(rootfs, path)), path).toBe(true);
    }
    expect(existsSync(join(rootfs, 'bin/sh'))).toBe(false);
  });

  it('its nodeagent-kube-proxy runs in the image and reports its version', () => {
    expect(inImage(['nodeagent-kube-proxy', '--version'])).toContain(`nodeagent-kube-proxy v${version}`);
  });

  it("rules rendered by the image's proxy load with the image's iptables-restore", () => {
    const rules = inImage(['nodeagent-kube-proxy', 'render', '-'], SERVICE_YAML);
    inImage(['iptables-restore'], rules);
    const nat = inImage(['iptables-save', '-t', 'nat']);
    expect(nat).toMatch(/-A KUBE-SERVICES .*-d 10\.96\.8\.8\/32 .*--dport 80 .*-j KUBE-SVC-/);
    expect(nat).toMatch(/-m statistic --mode random --probability 0\.5/);
    expect(nat).toContain('--to-destination 10.244.8.2:8080');
    // The nft backend is what loaded them: the tables are visible to the image's nft.
    expect(inImage(['nft', 'list', 'tables'])).toContain('table ip nat');
  });
});
