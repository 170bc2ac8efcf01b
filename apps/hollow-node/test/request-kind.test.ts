import { describe, expect, it } from 'vitest';
import { requestKind } from '../src/request-kind';

describe('requestKind: apiserver_request_total verb and resource of a request', () => {
  it.each([
    ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn&limit=500', 'LIST', 'pods'],
    ['GET', '/api/v1/pods?watch=true&resourceVersion=5', 'WATCH', 'pods'],
    ['GET', '/api/v1/nodes/hollow-node-1', 'GET', 'nodes'],
    ['POST', '/api/v1/nodes', 'POST', 'nodes'],
    ['PATCH', '/api/v1/namespaces/default/pods/web/status', 'PATCH', 'pods/status'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n', 'PUT', 'leases'],
    ['GET', '/apis/discovery.k8s.io/v1/endpointslices?watch=1', 'WATCH', 'endpointslices'],
    ['GET', '/api/v1/namespaces/kube-system', 'GET', 'namespaces'],
    ['GET', '/api/v1/namespaces', 'LIST', 'namespaces'],
    ['GET', '/healthz', 'GET', '/healthz'],
  ])('%s %s is %s %s', (method, path, verb, resource) => {
    expect(requestKind(method, path)).toEqual({ verb, resource });
  });
});
