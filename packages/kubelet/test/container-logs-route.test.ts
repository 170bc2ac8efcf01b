import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod, PodStatus } from '../src/api/pod-types';
import type { Kubelet } from '../src/kubelet';
import { notStartedMessage, serveContainerLogs } from '../src/server/container-logs-route';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
};
const waiting = (reason?: string): ContainerStatus => ({
  name: 'c',
  state: { waiting: reason ? { reason } : {} },
  lastState: {},
  ready: false,
  restartCount: 0,
  image: 'busybox',
  imageID: '',
});

let status: PodStatus | undefined;
let server: Server;
let port: number;

beforeAll(async () => {
  // Only what the route asks of the kubelet: the pod, no runtime container, its API status.
  const kubelet = {
    getPods: () => [pod],
    runtimeStatus: () => undefined,
    getPodStatus: () => status,
  } as unknown as Kubelet;
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://kubelet');
    const [namespace, name, container] = url.pathname.split('/').slice(2) as [string, string, string];
    void serveContainerLogs(
      kubelet,
      '/nonexistent',
      { namespace, pod: name, container },
      url,
      request,
      response,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const get = async (path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return [response.status, await response.text()] as const;
};

describe('/containerLogs of a container that never started', () => {
  it('answers 400 with the waiting reason, as upstream validateContainerLogStatus', async () => {
    status = { containerStatuses: [waiting('CreateContainerConfigError')] };
    expect(await get('/containerLogs/default/p/c')).toEqual([
      400,
      'container "c" in pod "p" is waiting to start: CreateContainerConfigError\n',
    ]);
    status = { containerStatuses: [waiting('ContainerCreating')] };
    expect(await get('/containerLogs/default/p/c?follow=true')).toEqual([
      400,
      'container "c" in pod "p" is waiting to start: ContainerCreating\n',
    ]);
    // Not in the spec at all: 404, as before; an unknown pod too.
    expect((await get('/containerLogs/default/p/nope'))[0]).toBe(404);
    expect((await get('/containerLogs/default/q/c'))[0]).toBe(404);
  });

  it('words image pulls and a container without status as upstream', () => {
    expect(notStartedMessage(waiting('ErrImagePull'), 'c', 'p')).toBe(
      `container "c" in pod "p" is waiting to start: image can't be pulled`,
    );
    expect(notStartedMessage(waiting('ImagePullBackOff'), 'c', 'p')).toBe(
      'container "c" in pod "p" is waiting to start: trying and failing to pull image',
    );
    expect(notStartedMessage(undefined, 'c', 'p')).toBe('container "c" in pod "p" is not available');
  });
});
