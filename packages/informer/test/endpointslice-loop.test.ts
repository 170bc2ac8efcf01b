import type { V1EndpointSlice } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, type Wire } from '../src/index';
import { eventually, podBody } from './helpers';

describe('pod status → EndpointSlice controller → slice informer (the kube-proxy loop)', {
  timeout: 30_000,
}, () => {
  let server: ApiServer;
  let informer: Informer<Wire<V1EndpointSlice>> | undefined;
  afterEach(async () => {
    await informer?.stop();
    await server.close();
  });

  it('delivers the endpoint once the pod has an IP and turns ready, and its removal on delete', async () => {
    server = await startApiServer({ endpointSliceController: true });
    const pods = server.resource('v1', 'pods');
    const services = server.resource('v1', 'services');
    server.registry.create(services, 'default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    informer = new Informer<Wire<V1EndpointSlice>>({
      kubeConfig: server.kubeConfig(),
      resource: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' },
      labelSelector: 'kubernetes.io/service-name=web',
      backoff: { initialMs: 5, maxMs: 50 },
    });
    informer.start();
    await informer.waitForSync();
    const addresses = () =>
      informer
        ?.list()
        .flatMap((s) => s.endpoints ?? [])
        .map((e) => `${e.addresses[0]} ready=${e.conditions?.ready}`) ?? [];

    server.registry.create(pods, 'default', podBody('web-1', 'node-1', { app: 'web' }));
    const running = (ready: boolean) => ({
      phase: 'Running',
      podIP: '10.244.1.7',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    });
    let pod = server.registry.get(pods, 'default', 'web-1');
    pod = server.registry.update(pods, 'default', 'web-1', { ...pod, status: running(false) }, 'status');
    await eventually(() => expect(addresses()).toEqual(['10.244.1.7 ready=false']));
    server.registry.update(pods, 'default', 'web-1', { ...pod, status: running(true) }, 'status');
    await eventually(() => expect(addresses()).toEqual(['10.244.1.7 ready=true']));
    expect(informer.list()[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    server.registry.delete(pods, 'default', 'web-1', { gracePeriodSeconds: 0 });
    await eventually(() => expect(addresses()).toEqual([]));
    // The placeholder slice stays: the Service still exists.
    expect(informer.list()).toHaveLength(1);
  });
});
