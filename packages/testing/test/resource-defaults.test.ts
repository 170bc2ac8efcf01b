import { describe, expect, it } from 'vitest';
import { imageTag } from '../src/apiserver/pod-defaults';
import { applyDefaults } from '../src/apiserver/resource-defaults';

// biome-ignore lint/suspicious/noExplicitAny: defaulted objects are arbitrary wire JSON
type Any = any;

function defaulted(obj: Any, operation: 'create' | 'update' = 'create'): Any {
  applyDefaults(obj, operation);
  return obj;
}

describe('applyDefaults as the real kube-apiserver defaults', () => {
  it('derives imagePullPolicy from the tag the way ParseImageName reports it', () => {
    expect(imageTag('busybox')).toBe('latest');
    expect(imageTag('localhost:5000/busybox')).toBe('latest');
    expect(imageTag('localhost:5000/busybox:1')).toBe('1');
    expect(imageTag('busybox@sha256:abc')).toBe('');
    expect(imageTag('busybox:1@sha256:abc')).toBe('1');
    const pod = defaulted({
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'a', image: 'localhost:5000/x' }],
        initContainers: [{ name: 'b', image: 'x:latest' }],
        ephemeralContainers: [{ name: 'c', image: 'x@sha256:abc' }],
      },
    });
    expect(pod.spec.containers[0].imagePullPolicy).toBe('Always');
    expect(pod.spec.initContainers[0].imagePullPolicy).toBe('Always');
    expect(pod.spec.ephemeralContainers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      resources: {},
    });
  });

  it('defaults probes, handlers, hostNetwork ports, volumes and keeps explicit tolerations', () => {
    const pod = defaulted({
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        hostNetwork: true,
        tolerations: [{ operator: 'Exists' }],
        containers: [
          {
            name: 'a',
            image: 'x:1',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { port: 8080 } },
            livenessProbe: { grpc: { port: 9000 }, periodSeconds: 3 },
            lifecycle: { preStop: { httpGet: { port: 80 } } },
            resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
          },
        ],
        volumes: [
          { name: 'none' },
          { name: 'hp', hostPath: { path: '/tmp' } },
          { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
        ],
      },
    });
    const c = pod.spec.containers[0];
    expect(c.ports[0]).toEqual({ containerPort: 8080, hostPort: 8080, protocol: 'TCP' });
    expect(c.readinessProbe).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.livenessProbe.grpc).toEqual({ port: 9000, service: '' });
    expect(c.livenessProbe.periodSeconds).toBe(3);
    expect(c.lifecycle.preStop.httpGet).toEqual({ port: 80, path: '/', scheme: 'HTTP' });
    expect(c.resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(pod.spec.volumes).toEqual([
      { name: 'none', emptyDir: {} },
      { name: 'hp', hostPath: { path: '/tmp', type: '' } },
      {
        name: 'tok',
        projected: {
          defaultMode: 420,
          sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3600 } }],
        },
      },
    ]);
    // A toleration of everything already tolerates both taints: nothing is added.
    expect(pod.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.status.qosClass).toBe('Burstable');
  });

  it('applies admission only on create, and refuses an unknown PriorityClass', () => {
    const updated = defaulted({ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } }, 'update');
    expect(updated.spec.tolerations).toBeUndefined();
    expect(updated.spec.priority).toBeUndefined();
    const critical = defaulted({
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [], priorityClassName: 'system-node-critical' },
    });
    expect(critical.spec.priority).toBe(2000001000);
    expect(() =>
      defaulted({
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [], priorityClassName: 'nope' },
      }),
    ).toThrow('pods "p" is forbidden: no PriorityClass with name nope was found');
  });

  it('defaults Services as SetDefaults_Service does', () => {
    const lb = defaulted({
      kind: 'Service',
      metadata: { name: 's' },
      spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    });
    expect(lb.spec).toMatchObject({
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
    expect(lb.status.loadBalancer.ingress[0].ipMode).toBe('VIP');
    const external = defaulted({
      kind: 'Service',
      metadata: { name: 'e' },
      spec: { type: 'ExternalName', externalName: 'example.invalid', sessionAffinityConfig: {} },
    });
    expect(external.spec.sessionAffinity).toBe('None');
    expect(external.spec.sessionAffinityConfig).toBeUndefined();
    expect(external.spec.internalTrafficPolicy).toBeUndefined();
    const withExternalIP = defaulted({
      kind: 'Service',
      metadata: { name: 'x' },
      spec: { externalIPs: ['192.0.2.9'], ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(withExternalIP.spec.externalTrafficPolicy).toBe('Cluster');
    expect(withExternalIP.spec.ports[0].targetPort).toBe('http');
  });

  it('defaults EndpointSlice ports, Nodes, Namespaces and Secrets', () => {
    const slice = defaulted({
      kind: 'EndpointSlice',
      metadata: { name: 's' },
      endpoints: [{}],
      ports: [{ port: 80 }],
    });
    expect(slice.ports).toEqual([{ port: 80, name: '', protocol: 'TCP' }]);
    expect(slice.endpoints[0].conditions).toEqual({});
    const node = defaulted({ kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: '2' } } });
    expect(node.status.allocatable).toEqual({ cpu: '2' });
    const ns = defaulted({ kind: 'Namespace', metadata: { name: 'team' } });
    expect(ns.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team' });
    expect(defaulted({ kind: 'Secret', metadata: { name: 's' } }).type).toBe('Opaque');
  });
});
