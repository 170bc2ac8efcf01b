import { afterEach, describe, expect, it } from 'vitest';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../src/apiserver/index';
import { type ApiServer, type KubeObject, startApiServer } from '../src/index';

type Obj = Record<string, unknown>;

describe('EndpointSlice controller', () => {
  let server: ApiServer;
  afterEach(async () => {
    await server.close();
  });

  function setup() {
    const pods = server.resource('v1', 'pods');
    const services = server.resource('v1', 'services');
    const slices = server.resource('discovery.k8s.io/v1', 'endpointslices');
    const slicesOf = (svc: string): KubeObject[] =>
      server.registry.list(slices, 'default').filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === svc);
    const runPod = (name: string, ip: string, ready: boolean, labels = { app: 'web' }) => {
      server.registry.create(pods, 'default', {
        metadata: { name, labels },
        spec: {
          nodeName: 'node-1',
          containers: [{ name: 'c', image: 'img:1', ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      });
      const p = server.registry.get(pods, 'default', name);
      server.registry.update(
        pods,
        'default',
        name,
        {
          ...p,
          status: {
            phase: 'Running',
            podIP: ip,
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          },
        },
        'status',
      );
    };
    return { pods, services, slices, slicesOf, runPod };
  }

  it('lists ready, not-ready and terminating pods with resolved named ports', async () => {
    server = await startApiServer({ endpointSliceController: true });
    const { pods, services, slicesOf, runPod } = setup();
    server.registry.create(services, 'default', {
      metadata: { name: 'web', labels: { team: 'a' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    runPod('w1', '10.244.0.11', true);
    runPod('w2', '10.244.0.12', false);
    runPod('other', '10.244.0.13', true, { app: 'db' } as never);
    await server.endpointSliceController?.settled();
    let [slice] = slicesOf('web');
    expect(slicesOf('web')).toHaveLength(1);
    expect(slice?.metadata.labels?.[MANAGED_BY_LABEL]).toBe('endpointslice-controller.k8s.io');
    expect(slice?.metadata.labels?.team).toBe('a');
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const eps = slice?.endpoints as Obj[];
    expect(eps.map((e) => [e.addresses, e.conditions, e.nodeName])).toEqual([
      [['10.244.0.11'], { ready: true, serving: true, terminating: false }, 'node-1'],
      [['10.244.0.12'], { ready: false, serving: false, terminating: false }, 'node-1'],
    ]);
    expect(eps[0]).not.toHaveProperty('zone');
    expect(eps[0]).not.toHaveProperty('hints');

    // Graceful deletion: the pod stays, terminating, serving while still Ready.
    server.registry.delete(pods, 'default', 'w1', { gracePeriodSeconds: 30 });
    await server.endpointSliceController?.settled();
    [slice] = slicesOf('web');
    expect((slice?.endpoints as Obj[] | undefined)?.[0]?.conditions).toEqual({
      ready: false,
      serving: true,
      terminating: true,
    });
    server.registry.delete(pods, 'default', 'w1', { gracePeriodSeconds: 0 });
    await server.endpointSliceController?.settled();
    expect(((slicesOf('web')[0]?.endpoints as Obj[] | undefined) ?? []).map((e) => e.addresses)).toEqual([
      ['10.244.0.12'],
    ]);
  });

  it('splits at maxEndpointsPerSlice, keeps a placeholder when empty, and cleans up on service delete', async () => {
    server = await startApiServer();
    const { services, pods, slicesOf, runPod } = setup();
    for (let i = 0; i < 5; i++) runPod(`p${i}`, `10.244.1.${i + 1}`, true);
    server.registry.create(services, 'default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    server.registry.create(services, 'default', {
      metadata: { name: 'empty' },
      spec: { selector: { app: 'none' }, ports: [{ port: 80 }] },
    });
    const ctl = server.startEndpointSliceController({ maxEndpointsPerSlice: 2 });
    await ctl.settled();
    const sizes = slicesOf('web')
      .map((s) => (s.endpoints as Obj[]).length)
      .sort();
    expect(sizes).toEqual([1, 2, 2]);
    expect(slicesOf('empty').map((s) => s.endpoints)).toEqual([[]]);
    // A pod losing its label leaves the service's slices.
    const p0 = server.registry.get(pods, 'default', 'p0');
    server.registry.update(pods, 'default', 'p0', {
      ...p0,
      metadata: { ...p0.metadata, labels: { app: 'other' } },
    });
    await ctl.settled();
    expect(slicesOf('web').flatMap((s) => s.endpoints as Obj[])).toHaveLength(4);
    server.registry.delete(services, 'default', 'web');
    await ctl.settled();
    expect(slicesOf('web')).toEqual([]);
  });
});
