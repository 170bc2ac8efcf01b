import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOnThisMachine } from '../src/apiserver/local-address';
import { type ApiServer, startApiServer } from '../src/index';

// Without a dialer the in-process API server only connects to kubelets on this machine: a Node
// whose address is elsewhere (here a documentation address, TEST-NET-3) is refused before any
// connection is attempted, so a Node address that exists only inside a network namespace is
// never dialled through the host's default route.
describe('the API server dials only kubelets on this machine', () => {
  let api: ApiServer;

  beforeAll(async () => {
    api = await startApiServer();
    api.registry.create(api.resource('v1', 'nodes'), undefined, {
      metadata: { name: 'far' },
      status: { addresses: [{ type: 'InternalIP', address: '203.0.113.7' }] },
    });
    api.registry.create(api.resource('v1', 'pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'far', containers: [{ name: 'app', image: 'i:1' }] },
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('refuses pods/log for a kubelet whose address is not on this machine', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/pods/web/log`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("node far's kubelet address 203.0.113.7 is not on this machine");
  });

  it('knows loopback, its own interface addresses and names as this machine', () => {
    expect(isOnThisMachine('127.0.0.1')).toBe(true);
    expect(isOnThisMachine('127.0.0.2')).toBe(true);
    expect(isOnThisMachine('::1')).toBe(true);
    expect(isOnThisMachine('[::1]')).toBe(true);
    expect(isOnThisMachine('localhost')).toBe(true);
    expect(isOnThisMachine('203.0.113.7')).toBe(false);
    expect(isOnThisMachine('node-p.invalid')).toBe(false);
  });
});
