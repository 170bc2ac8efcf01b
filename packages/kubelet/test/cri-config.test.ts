import { Protocol } from '@nodeagent/cri-client/types';
import { describe, expect, it } from 'vitest';
import type { Container } from '../src/api/pod-types';
import { podQOSClass } from '../src/api/qos-class';
import { buildContainerConfig, containerAnnotations, defaultMaskedPaths } from '../src/cri/container-config';
import { containerHash } from '../src/cri/container-hash';
import { parseResolvConf, podDNSConfig } from '../src/cri/dns-config';
import {
  containerOOMScoreAdj,
  linuxContainerResources,
  milliCPUToQuota,
  milliCPUToShares,
} from '../src/cri/linux-resources';
import { buildSandboxConfig, podHostnameAndDomain } from '../src/cri/sandbox-config';
import { makePod } from './helpers/fixtures';

const hostResolvConf = 'nameserver 192.168.0.1\nsearch corp.example\noptions timeout:2\n';
const dns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf };

describe('sandbox config', () => {
  it('carries metadata, hostname, log directory, port mappings and pod labels', () => {
    const pod = makePod(
      {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            ports: [
              { containerPort: 80, hostPort: 8080 },
              { containerPort: 53, protocol: 'UDP' },
            ],
          },
        ],
      },
      { name: 'web', namespace: 'shop', uid: 'u-42', labels: { app: 'web' }, annotations: { note: 'x' } },
    );
    const config = buildSandboxConfig(pod, { ...dns, attempt: 2 });
    expect(config.metadata).toEqual({ name: 'web', namespace: 'shop', uid: 'u-42', attempt: 2 });
    expect(config.hostname).toBe('web');
    expect(config.logDirectory).toBe('/var/log/pods/shop_web_u-42');
    expect(config.portMappings).toEqual([
      { protocol: Protocol.TCP, containerPort: 80, hostPort: 8080, hostIp: '' },
      { protocol: Protocol.UDP, containerPort: 53, hostPort: 0, hostIp: '' },
    ]);
    expect(config.labels).toEqual({
      app: 'web',
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': 'u-42',
    });
    expect(config.annotations).toEqual({ note: 'x' });
    expect(config.linux.securityContext.namespaceOptions).toEqual({
      network: 0,
      pid: 1,
      ipc: 0,
      usernsOptions: { mode: 2 },
    });
  });

  it('uses node namespaces and no hostname for host-network pods', () => {
    const pod = makePod({ hostNetwork: true, hostPID: true });
    const config = buildSandboxConfig(pod, { ...dns, attempt: 0 });
    expect(config.hostname).toBe('');
    expect(config.linux.securityContext.namespaceOptions).toEqual({
      network: 2,
      pid: 2,
      ipc: 0,
      usernsOptions: { mode: 2 },
    });
    // ClusterFirst on the host network means the node's resolver.
    expect(config.dnsConfig?.servers).toEqual(['192.168.0.1']);
  });

  it('truncates long hostnames and builds the subdomain FQDN', () => {
    const pod = makePod({ hostname: `${'a'.repeat(62)}-b`, subdomain: 'svc' }, { namespace: 'ns' });
    const { hostname, domain } = podHostnameAndDomain(pod, 'cluster.local');
    expect(hostname).toBe('a'.repeat(62));
    expect(domain).toBe('svc.ns.svc.cluster.local');
  });
});

describe('pod DNS', () => {
  it('ClusterFirst: cluster DNS, namespace search path, ndots:5', () => {
    const config = podDNSConfig(makePod({}, { namespace: 'shop' }), dns);
    expect(config).toEqual({
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: ['ndots:5'],
    });
  });

  it('Default: the node resolver; None: only dnsConfig, merged with overrides', () => {
    expect(podDNSConfig(makePod({ dnsPolicy: 'Default' }), dns)).toEqual({
      servers: ['192.168.0.1'],
      searches: ['corp.example'],
      options: ['timeout:2'],
    });
    const none = makePod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.1.1.1'],
        searches: ['a.example'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    });
    expect(podDNSConfig(none, dns)).toEqual({
      servers: ['1.1.1.1'],
      searches: ['a.example'],
      options: ['ndots:2', 'edns0'],
    });
    const override = makePod({ dnsConfig: { options: [{ name: 'ndots', value: '1' }] } });
    expect(podDNSConfig(override, dns).options).toEqual(['ndots:1']);
  });

  it('falls back to the node resolver without clusterDNS and parses resolv.conf like glibc', () => {
    expect(
      podDNSConfig(makePod(), { clusterDNS: [], clusterDomain: 'cluster.local', hostResolvConf }).servers,
    ).toEqual(['192.168.0.1']);
    expect(
      parseResolvConf('# c\nnameserver 1.1.1.1 ; x\nsearch a b\ndomain c\nnameserver 8.8.8.8\n'),
    ).toEqual({
      servers: ['1.1.1.1', '8.8.8.8'],
      searches: ['c'],
      options: [],
    });
  });
});

describe('container config', () => {
  const container: Container = {
    name: 'app',
    image: 'busybox:1.36',
    command: ['sh', '-c'],
    args: ['echo $(GREETING) $$(GREETING)'],
    workingDir: '/work',
    ports: [{ containerPort: 80 }],
    lifecycle: { preStop: { sleep: { seconds: 3 } } },
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'config', mountPath: '/etc/app/app.conf', subPath: 'app.conf' },
    ],
    resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
    securityContext: {
      capabilities: { add: ['NET_ADMIN'] },
      allowPrivilegeEscalation: false,
      runAsUser: 1000,
    },
  };
  const pod = makePod({ containers: [container], terminationGracePeriodSeconds: 30 });
  const config = buildContainerConfig(pod, container, {
    restartCount: 3,
    imageRef: 'sha256:abc',
    env: [{ key: 'GREETING', value: 'hi' }],
    volumes: new Map([
      ['data', { hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/data' }],
      [
        'config',
        { hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~configmap/config', readOnly: true },
      ],
    ]),
    memoryCapacity: 4 * 1024 ** 3,
    terminationMessageHostPath: '/var/lib/kubelet/pods/uid-1/containers/app/abcd',
  });

  it('sets metadata, image, expanded command/args and the log path', () => {
    expect(config.metadata).toEqual({ name: 'app', attempt: 3 });
    expect(config.image).toEqual({ image: 'sha256:abc', userSpecifiedImage: 'busybox:1.36' });
    expect(config.command).toEqual(['sh', '-c']);
    expect(config.args).toEqual(['echo hi $(GREETING)']);
    expect(config.workingDir).toBe('/work');
    expect(config.logPath).toBe('app/3.log');
  });

  it('labels and annotates the container like upstream', () => {
    expect(config.labels).toEqual({
      'io.kubernetes.container.name': 'app',
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': 'uid-1',
    });
    expect(config.annotations).toEqual({
      'io.kubernetes.container.hash': containerHash(container),
      'io.kubernetes.container.restartCount': '3',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '30',
      'io.kubernetes.container.preStopHandler': JSON.stringify({ sleep: { seconds: 3 } }),
      'io.kubernetes.container.ports': JSON.stringify([{ containerPort: 80 }]),
    });
  });

  it("records the pod's deletion grace period when the pod is already being deleted, as upstream", () => {
    const deleting = { ...pod, metadata: { ...pod.metadata, deletionGracePeriodSeconds: 5 } };
    expect(containerAnnotations(deleting, container, 0)).toMatchObject({
      'io.kubernetes.pod.deletionGracePeriod': '5',
      'io.kubernetes.pod.terminationGracePeriod': '30',
    });
    expect(containerAnnotations(pod, container, 0)).not.toHaveProperty(
      'io.kubernetes.pod.deletionGracePeriod',
    );
  });

  it('mounts volumes (with subPath and read-only sources) and the termination log', () => {
    expect(config.mounts).toEqual([
      {
        containerPath: '/data',
        hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/data',
        readonly: false,
        propagation: 0,
      },
      {
        containerPath: '/etc/app/app.conf',
        hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~configmap/config/app.conf',
        readonly: true,
        propagation: 0,
      },
      {
        containerPath: '/dev/termination-log',
        hostPath: '/var/lib/kubelet/pods/uid-1/containers/app/abcd',
        readonly: false,
        propagation: 0,
      },
    ]);
  });

  it('maps resources and security context to Linux settings', () => {
    expect(config.linux.resources).toMatchObject({
      cpuShares: 256,
      cpuQuota: 50_000,
      cpuPeriod: 100_000,
      memoryLimitInBytes: 128 * 1024 ** 2,
    });
    expect(config.linux.securityContext).toMatchObject({
      capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: [] },
      privileged: false,
      noNewPrivs: true,
      runAsUser: { value: 1000 },
      maskedPaths: defaultMaskedPaths,
    });
  });

  it("hashes the container as upstream's HashContainer: its name and image, nothing else", () => {
    // Upstream's own test vector (container_hash: test_container, foo/image:v1 → 0x8e45cbd0),
    // whatever its args and ports.
    expect(
      containerHash({
        name: 'test_container',
        image: 'foo/image:v1',
        args: ['/bin/sh', '-c', 'echo abc'],
        ports: [{ containerPort: 8001 }],
      } as Container),
    ).toBe('8e45cbd0');
    expect(containerHash({ ...container, resources: { limits: { cpu: '2' } } } as Container)).toBe(
      containerHash(container),
    );
    expect(containerHash({ ...container, image: 'busybox:1.37' })).not.toBe(containerHash(container));
    expect(containerHash({ ...container, name: 'other' })).not.toBe(containerHash(container));
  });
});

describe('resources and QoS', () => {
  it('converts CPU like upstream', () => {
    expect(milliCPUToShares(0)).toBe(2);
    expect(milliCPUToShares(1)).toBe(2);
    expect(milliCPUToShares(1000)).toBe(1024);
    expect(milliCPUToQuota(0, 100_000)).toBe(0);
    expect(milliCPUToQuota(5, 100_000)).toBe(1000);
    expect(milliCPUToQuota(1500, 100_000)).toBe(150_000);
  });

  it('classifies QoS and sets the OOM score', () => {
    const guaranteed = makePod({
      containers: [{ name: 'a', image: 'b', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
    });
    const burstable = makePod({
      containers: [{ name: 'a', image: 'b', resources: { requests: { memory: '1Gi' } } }],
    });
    const bestEffort = makePod();
    expect(podQOSClass(guaranteed)).toBe('Guaranteed');
    expect(podQOSClass(burstable)).toBe('Burstable');
    expect(podQOSClass(bestEffort)).toBe('BestEffort');
    const capacity = 4 * 1024 ** 3;
    expect(containerOOMScoreAdj(guaranteed, guaranteed.spec.containers[0]!, capacity)).toBe(-997);
    expect(containerOOMScoreAdj(bestEffort, bestEffort.spec.containers[0]!, capacity)).toBe(1000);
    expect(containerOOMScoreAdj(burstable, burstable.spec.containers[0]!, capacity)).toBe(750);
    const resources = linuxContainerResources(bestEffort, bestEffort.spec.containers[0]!, {
      memoryCapacity: capacity,
    });
    // Upstream's calculateLinuxResources sends the period with cpuCFSQuota on, limit or not.
    expect(resources).toEqual({
      cpuPeriod: 100_000,
      cpuQuota: 0,
      cpuShares: 2,
      memoryLimitInBytes: 0,
      oomScoreAdj: 1000,
    });
  });
});
