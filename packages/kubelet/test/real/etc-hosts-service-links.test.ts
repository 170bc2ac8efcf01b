import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { type NodeHarness, runningPod, useNodeHarness, waitFor } from './node-harness';

/**
 * Conformance "KubeletManagedEtcHosts should test kubelet managed /etc/hosts file", "Kubelet
 * … with hostAliases should write entries to /etc/hosts" and "Pods should contain environment
 * variables for services", on a real containerd through the in-process API server.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

const sleeper = (name: string, extra: Partial<Pod['spec']['containers'][number]> = {}) => ({
  name,
  image: node.busybox,
  command: ['sh', '-c', 'sleep 3600'],
  ...extra,
});

const managedHeader = '# Kubernetes-managed hosts file.';
const localhostLines =
  '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
  'fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

describe('kubelet-managed /etc/hosts and service links on a real containerd', { timeout: 120_000 }, () => {
  it('writes the managed hosts file with the pod IP and hostAliases; leaves a container mounting /etc/hosts alone', async () => {
    const hostsOriginal = { name: 'host-etc-hosts', mountPath: '/etc/hosts-original', readOnly: true };
    node.createPod({
      metadata: { name: 'test-pod' },
      spec: {
        terminationGracePeriodSeconds: 1,
        hostAliases: [
          { ip: '123.45.67.89', hostnames: ['foo', 'bar'] },
          { ip: '10.1.2.3', hostnames: ['baz'] },
        ],
        containers: [
          sleeper('busybox-1', { volumeMounts: [hostsOriginal] }),
          sleeper('busybox-2', { volumeMounts: [hostsOriginal] }),
          sleeper('busybox-3', {
            volumeMounts: [
              hostsOriginal,
              { name: 'host-etc-hosts', mountPath: '/etc/hosts', readOnly: true },
            ],
          }),
        ],
        volumes: [{ name: 'host-etc-hosts', hostPath: { path: '/etc/hosts', type: 'FileOrCreate' } }],
      },
    });
    const pod = await node.waitPod('test-pod', 'Running', runningPod);
    const ip = pod.status!.podIP!;
    const expected =
      `${managedHeader}\n${localhostLines}${ip}\ttest-pod\n` +
      '\n# Entries added by HostAliases.\n123.45.67.89\tfoo\tbar\n10.1.2.3\tbaz\n';
    const nodeHosts = await readFile('/etc/hosts', 'utf8');
    for (const name of ['busybox-1', 'busybox-2']) {
      const hosts = await node.exec('test-pod', name, ['cat', '/etc/hosts']);
      expect(hosts).toBe(expected);
      // upstream's isManaged: the header, and not the node's own file
      expect(await node.exec('test-pod', name, ['cat', '/etc/hosts-original'])).toBe(nodeHosts);
    }
    expect(await node.exec('test-pod', 'busybox-3', ['cat', '/etc/hosts'])).toBe(nodeHosts);
  });

  it('gives a pod with a subdomain its FQDN line first', async () => {
    node.createPod({
      metadata: { name: 'fqdn-pod' },
      spec: {
        terminationGracePeriodSeconds: 1,
        hostname: 'web-0',
        subdomain: 'web',
        containers: [sleeper('app')],
      },
    });
    const pod = await node.waitPod('fqdn-pod', 'Running', runningPod);
    const hosts = await node.exec('fqdn-pod', 'app', ['cat', '/etc/hosts']);
    expect(hosts).toBe(
      `${managedHeader}\n${localhostLines}${pod.status!.podIP}\tweb-0.web.default.svc.cluster.local\tweb-0\n`,
    );
  });

  it('gives a host-network pod the node hosts file under the host-network header, plus hostAliases', async () => {
    node.createPod({
      metadata: { name: 'test-host-network-pod' },
      spec: {
        terminationGracePeriodSeconds: 1,
        hostNetwork: true,
        hostAliases: [{ ip: '123.45.67.89', hostnames: ['foo'] }],
        containers: [sleeper('busybox-1')],
      },
    });
    await node.waitPod('test-host-network-pod', 'Running', runningPod);
    const hosts = await node.exec('test-host-network-pod', 'busybox-1', ['cat', '/etc/hosts']);
    const nodeHosts = await readFile('/etc/hosts', 'utf8');
    expect(hosts).toBe(
      `# Kubernetes-managed hosts file (host network).\n${nodeHosts}\n# Entries added by HostAliases.\n123.45.67.89\tfoo\n`,
    );
    // Not "kubelet-managed" in the conformance test's sense (its prefix check).
    expect(hosts.startsWith(`${managedHeader}\n`)).toBe(false);
  });

  it('sets service link variables for the namespace Services and the master service', async () => {
    const services = node.api.resource('v1', 'services');
    node.api.registry.create(services, 'default', {
      metadata: { name: 'kubernetes' },
      spec: {
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      },
    });
    node.api.registry.create(services, 'default', {
      metadata: { name: 'fooservice' },
      spec: {
        selector: { name: 'server' },
        ports: [{ port: 8765, targetPort: 8080 }],
      },
    });
    node.api.registry.create(services, 'default', {
      metadata: { name: 'multi-port' },
      spec: {
        clusterIP: '10.96.7.7',
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'dns-udp', port: 53, protocol: 'UDP' },
        ],
      },
    });
    node.api.registry.create(services, 'default', {
      metadata: { name: 'headless' },
      spec: { clusterIP: 'None', ports: [{ port: 80 }] },
    });
    node.api.registry.create(node.api.resource('v1', 'namespaces'), undefined, {
      metadata: { name: 'elsewhere' },
    });
    node.api.registry.create(services, 'elsewhere', {
      metadata: { name: 'other' },
      spec: { clusterIP: '10.96.8.8', ports: [{ port: 80 }] },
    });
    const foo = node.api.registry.find(services, 'default', 'fooservice') as unknown as {
      spec: { clusterIP: string };
    };
    const fooIP = foo.spec.clusterIP;
    expect(fooIP).toMatch(/^10\./);
    // The kubelet's informer sees them before the pods are created (as in the conformance test).
    await waitFor('the kubelet to see the Services', () =>
      node.services.list().length >= 5 ? true : undefined,
    );
    node.createPod({
      metadata: { name: 'client-envvars' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [sleeper('env3cont', { env: [{ name: 'OWN', value: '$(FOOSERVICE_SERVICE_PORT)' }] })],
      },
    });
    node.createPod({
      metadata: { name: 'no-links' },
      spec: { terminationGracePeriodSeconds: 1, enableServiceLinks: false, containers: [sleeper('app')] },
    });
    await node.waitPod('client-envvars', 'Running', runningPod);
    await node.waitPod('no-links', 'Running', runningPod);
    const env = (await node.exec('client-envvars', 'env3cont', ['env'])).split('\n');
    for (const line of [
      `FOOSERVICE_SERVICE_HOST=${fooIP}`,
      'FOOSERVICE_SERVICE_PORT=8765',
      `FOOSERVICE_PORT=tcp://${fooIP}:8765`,
      `FOOSERVICE_PORT_8765_TCP=tcp://${fooIP}:8765`,
      'FOOSERVICE_PORT_8765_TCP_PROTO=tcp',
      'FOOSERVICE_PORT_8765_TCP_PORT=8765',
      `FOOSERVICE_PORT_8765_TCP_ADDR=${fooIP}`,
      'MULTI_PORT_SERVICE_PORT=80',
      'MULTI_PORT_SERVICE_PORT_HTTP=80',
      'MULTI_PORT_SERVICE_PORT_DNS_UDP=53',
      'MULTI_PORT_PORT_53_UDP=udp://10.96.7.7:53',
      'MULTI_PORT_PORT_53_UDP_PROTO=udp',
      'KUBERNETES_SERVICE_HOST=10.96.0.1',
      'KUBERNETES_SERVICE_PORT=443',
      'KUBERNETES_SERVICE_PORT_HTTPS=443',
      'KUBERNETES_PORT=tcp://10.96.0.1:443',
      'OWN=8765',
    ]) {
      expect(env).toContain(line);
    }
    expect(env.filter((l) => l.startsWith('HEADLESS_') || l.startsWith('OTHER_'))).toEqual([]);
    const noLinks = (await node.exec('no-links', 'app', ['env'])).split('\n');
    expect(noLinks).toContain('KUBERNETES_SERVICE_HOST=10.96.0.1');
    expect(noLinks.filter((l) => l.startsWith('FOOSERVICE_') || l.startsWith('MULTI_PORT_'))).toEqual([]);
  });
});
