import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ApiServer, bridgeIntoNetns, createNetns, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildKubeProxyImage, type KubeProxyImage } from './kube-proxy-image';
import { REPO_ROOT } from './node-runtime.mjs';
import { sharedSeaExecutable } from './shared-sea';

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
    // The run's executable (tools/sea/shared-sea.ts); the image build copies it into the layer.
    const binary = await sharedSeaExecutable('nodeagent-kube-proxy');
    image = await buildKubeProxyImage({ binary: binary.path, tag: version, outDir: join(work, 'out') });
    const layout = join(work, 'layout');
    mkdirSync(layout);
    await run('tar', ['-xf', image.archive, '-C', layout]);
    const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.replace('sha256:', ''));
    const manifest = JSON.parse(readFileSync(blob(image.manifestDigest), 'utf8'));
    mkdirSync(rootfs);
    await run('tar', ['-xf', blob(manifest.layers[0].digest), '-C', rootfs]);
    await run('ip', ['netns', 'add', netns]);
    // It may wait for the run's executable another file is building (shared-sea.ts).
  }, 300_000);

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
    expect(readlinkSync(join(rootfs, 'usr/local/bin/kube-proxy'))).toBe('nodeagent-kube-proxy');
    for (const path of [
      'usr/local/bin/nodeagent-kube-proxy',
      'usr/sbin/iptables-restore',
      'usr/sbin/ip6tables-save',
      'usr/sbin/nft',
      'usr/sbin/ipset',
      'usr/lib/x86_64-linux-gnu/xtables/libxt_comment.so',
      'usr/lib/x86_64-linux-gnu/xtables/libxt_statistic.so',
      'lib64/ld-linux-x86-64.so.2',
    ]) {
      expect(existsSync(join(rootfs, path)), path).toBe(true);
    }
    // Stale UDP flows are cleaned over netlink (the conntrack reconciler): no conntrack binary.
    expect(existsSync(join(rootfs, 'usr/sbin/conntrack'))).toBe(false);
    // Sysctls are files under /proc/sys the daemon writes itself: no sysctl binary.
    expect(existsSync(join(rootfs, 'usr/sbin/sysctl'))).toBe(false);
    expect(existsSync(join(rootfs, 'bin/sh'))).toBe(false);
  });

  it('its nodeagent-kube-proxy runs in the image and reports its version', () => {
    expect(inImage(['nodeagent-kube-proxy', '--version'])).toBe('Kubernetes v1.36.3\n');
    expect(inImage(['nodeagent-kube-proxy', '--version=raw'])).toContain(`nodeagent-kube-proxy v${version}`);
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

  it("runs kubeadm's DaemonSet command with kubeadm's ConfigMap: /usr/local/bin/kube-proxy syncs from the API server", async () => {
    // kubeadm's kube-system/kube-proxy ConfigMap, mounted at /var/lib/kube-proxy as its DaemonSet
    // does; its kubeconfig.conf uses the pod's service account (CA and token files). Only the
    // server address is this test's: the in-process API server (TLS) as seen from the namespace.
    const configMap = parse(
      readFileSync(
        join(REPO_ROOT, 'apps/kube-proxy/test/fixtures/kubeadm-v1.32-kube-proxy-configmap.yaml'),
        'utf8',
      ),
    ) as { data: Record<string, string> };
    const requests: { method: string; path: string }[] = [];
    const api: ApiServer = await startApiServer({
      tls: true,
      audit: (_user, method, path) => requests.push({ method, path }),
    });
    const ns = await createNetns({ purpose: 'kpimgkubeadm' });
    let log = '';
    try {
      const bridge = await bridgeIntoNetns(ns, api.port);
      const mount = join(rootfs, 'var/lib/kube-proxy');
      writeFileSync(join(mount, 'config.conf'), configMap.data['config.conf']!);
      writeFileSync(
        join(mount, 'kubeconfig.conf'),
        configMap.data['kubeconfig.conf']!.replace(
          'https://control-plane.example:6443',
          `https://127.0.0.1:${bridge.port}`,
        ),
      );
      const serviceAccount = join(rootfs, 'var/run/secrets/kubernetes.io/serviceaccount');
      mkdirSync(serviceAccount, { recursive: true });
      writeFileSync(join(serviceAccount, 'ca.crt'), api.caCertificate!);
      writeFileSync(join(serviceAccount, 'token'), 'kube-proxy-service-account-token');
      api.registry.create(api.resource('v1', 'nodes'), undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'kubeadm-node' },
        status: { addresses: [{ type: 'InternalIP', address: '10.251.0.7' }] },
      });
      api.registry.create(api.resource('v1', 'services'), 'default', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'default' },
        spec: { clusterIP: '10.96.9.9', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      });
      api.registry.create(api.resource('discovery.k8s.io/v1', 'endpointslices'), 'default', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: ['10.244.9.1'], conditions: { ready: true } }],
      });

      // The container as a runtime makes it: its own mount namespace with /proc, /dev and a
      // read-only /sys (read-only so the proxy cannot resize the host's global conntrack hash
      // table from a test), the image's root, kubeadm's command (kubelet expands $(NODE_NAME)
      // from the pod's spec.nodeName).
      const proxy = ns.spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && mount -t sysfs -o ro sysfs "$0/sys" && exec chroot "$0" "$@"',
          rootfs,
          '/usr/local/bin/kube-proxy',
          '--config=/var/lib/kube-proxy/config.conf',
          '--hostname-override=kubeadm-node',
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { PATH: '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
        },
      );
      proxy.stderr?.on('data', (b: Buffer) => {
        log += b.toString();
      });
      const exited = new Promise<number | null>((resolve) => proxy.on('exit', (code) => resolve(code)));

      const deadline = Date.now() + 90_000;
      let nat = '';
      while (
        !nat.includes('--to-destination 10.244.9.1:8080') &&
        Date.now() < deadline &&
        proxy.exitCode === null
      ) {
        await new Promise((r) => setTimeout(r, 300));
        nat = (await ns.exec('iptables-save', ['-t', 'nat'])).stdout;
      }
      expect(nat, log).toContain('--to-destination 10.244.9.1:8080');
      expect(nat).toContain('"default/web:http cluster IP"');
      // clusterCIDR from the ConfigMap, detectLocalMode defaulted to ClusterCIDR.
      expect(nat).toContain('! -s 10.244.0.0/16');

      // healthzBindAddress "" → 0.0.0.0:10256 (the DaemonSet's probes), metricsBindAddress "" → 127.0.0.1:10249.
      const healthz = await ns.exec('curl', ['-sS', '-i', 'http://127.0.0.1:10256/healthz']);
      expect(healthz.stdout).toMatch(/^HTTP\/1.1 200/);
      expect((await ns.exec('curl', ['-sS', 'http://127.0.0.1:10249/proxyMode'])).stdout).toBe('iptables');
      // oomScoreAdj null → -999, applied to the proxy process itself; lowering it needs
      // CAP_SYS_RESOURCE, which a sandboxed test run may lack: then the proxy says so by name.
      if (hasCapability(CAP_SYS_RESOURCE)) {
        expect(readFileSync(`/proc/${proxy.pid}/oom_score_adj`, 'utf8').trim()).toBe('-999');
      } else {
        expect(log).toMatch(/^W.*"Failed to apply OOMScore" field="oomScoreAdj" value=-999 /m);
      }
      // klog text lines (logging.format "" → text); kubeadm's contentType "" is the default, which
      // is not warned about (only a protobuf content type the user writes is).
      expect(log).toMatch(/^I\d{4} \d{2}:\d{2}:\d{2}\.\d{6}\s+\d+ kube-proxy\] /m);
      expect(log).not.toMatch(/clientConnection\.contentType/);

      // kubeadm binds the kube-proxy service account to system:node-proxier; every request fits it.
      expect(requests.length).toBeGreaterThan(0);
      const outside = requests.filter((r) => !allowedForNodeProxier(r.method, r.path));
      expect(outside).toEqual([]);

      proxy.kill('SIGTERM');
      expect(await exited).toBe(0);
      await bridge.close();
    } finally {
      await ns.delete();
      await api.close();
    }
  });
});

const CAP_SYS_RESOURCE = 24;

/** Whether this process has a capability in its effective set (/proc/self/status CapEff). */
function hasCapability(bit: number): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}

/**
 * system:node-proxier, upstream's bootstrap ClusterRole kubeadm binds kube-proxy's service
 * account to: list/watch endpoints and services, get/list/watch nodes, list/watch
 * endpointslices, create/patch/update events. Requests are GETs of collections (list, watch) or
 * of one object (get); anything else is outside the role.
 */
function allowedForNodeProxier(method: string, path: string): boolean {
  const core = /^\/api\/v1\/(endpoints|services|nodes)(?:\/([^/]+))?$/.exec(path);
  const slices = /^\/apis\/discovery\.k8s\.io\/v1\/endpointslices$/.test(path);
  const events = /^\/(?:api\/v1|apis\/events\.k8s\.io\/v1)\/namespaces\/[^/]+\/events(?:\/[^/]+)?$/.test(
    path,
  );
  if (events) return ['POST', 'PATCH', 'PUT'].includes(method);
  if (method !== 'GET') return false;
  if (slices) return true;
  if (!core) return false;
  return core[2] === undefined || core[1] === 'nodes';
}
