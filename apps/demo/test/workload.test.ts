import { startApiServer } from '@nodeagent/testing';
import { describe, expect, it } from 'vitest';
import { DemoError } from '../src/errors';
import { applyWorkload, loadWorkload, readWorkload, replicaSetWorkload } from '../src/workload';

const settings = { nodeName: 'node-x', image: 'localhost/img:1', fakeRuntime: false };

describe('sample workload', () => {
  it('ships two web pods with readiness probes, a ClusterIP and a NodePort Service', () => {
    const objects = readWorkload(settings);
    const pods = objects.filter((o) => o.kind === 'Pod');
    expect(pods.map((p) => p.metadata.name)).toEqual(['web-1', 'web-2']);
    for (const pod of pods) {
      const spec = pod.spec as { nodeName: string; containers: Record<string, unknown>[] };
      expect(spec.nodeName).toBe('node-x');
      expect(spec.containers[0]?.image).toBe('localhost/img:1');
      expect(spec.containers[0]?.readinessProbe).toMatchObject({ httpGet: { port: 'http' } });
      expect((spec.containers[0]?.command as string[] | undefined)?.[2]).toContain('httpd');
    }
    const types = objects
      .filter((o) => o.kind === 'Service')
      .map((s) => (s.spec as { type: string }).type)
      .sort();
    expect(types).toEqual(['ClusterIP', 'NodePort']);
  });

  it('on the fake runtime, swaps httpd for a sleep and drops the readiness probe', () => {
    const pods = readWorkload({ ...settings, fakeRuntime: true }).filter((o) => o.kind === 'Pod');
    for (const pod of pods) {
      const c = (pod.spec as { containers: Record<string, unknown>[] }).containers[0];
      expect(c?.readinessProbe).toBeUndefined();
      expect(c?.command).toEqual(['sh', '-c', 'echo serving; sleep 3600']);
    }
  });

  it('refuses kinds it does not apply', () => {
    expect(() =>
      loadWorkload('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n', settings),
    ).toThrow(DemoError);
  });

  it('applies through the API server registry; the EndpointSlice controller selects the pods', async () => {
    const server = await startApiServer({ endpointSliceController: true });
    try {
      expect(applyWorkload(server, readWorkload(settings))).toEqual([
        'pod/web-1',
        'pod/web-2',
        'service/web',
        'service/web-nodeport',
      ]);
      const svc = server.registry.get(
        server.resource('v1', 'services'),
        'default',
        'web-nodeport',
      ) as unknown as {
        spec: { clusterIP: string; ports: { nodePort: number }[] };
      };
      expect(svc.spec.clusterIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(svc.spec.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    } finally {
      await server.close();
    }
  });

  it('makes the multi-node workload a ReplicaSet of the web pod, with requests so the scheduler spreads it', () => {
    const objects = replicaSetWorkload(readWorkload(settings), 6);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ReplicaSet/web',
      'Service/web',
      'Service/web-nodeport',
    ]);
    const rs = objects[0] as unknown as {
      spec: {
        replicas: number;
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string> };
          spec: { nodeName?: string; containers: Record<string, unknown>[] };
        };
      };
    };
    expect(rs.spec.replicas).toBe(6);
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web' });
    expect(rs.spec.template.metadata.labels).toEqual({ app: 'web' });
    expect(rs.spec.template.spec.nodeName).toBeUndefined();
    expect(rs.spec.template.spec.containers[0]?.image).toBe('localhost/img:1');
    expect(rs.spec.template.spec.containers[0]?.resources).toEqual({
      requests: { cpu: '50m', memory: '32Mi' },
    });
    expect(() => replicaSetWorkload([], 2)).toThrow(DemoError);
  });

  it('applies the ReplicaSet through the registry; its controller and the scheduler make the pods', async () => {
    const server = await startApiServer({ controlPlane: true });
    try {
      const objects = replicaSetWorkload(readWorkload(settings), 2);
      expect(applyWorkload(server, objects)).toEqual([
        'replicaset/web',
        'service/web',
        'service/web-nodeport',
      ]);
      const podRT = server.resource('v1', 'pods');
      await server.controlPlane?.settled();
      const pods = server.registry.list(podRT, 'default');
      expect(pods).toHaveLength(2);
      expect(pods.every((p) => p.metadata.name?.startsWith('web-'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
