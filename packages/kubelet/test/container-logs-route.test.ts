import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('/containerLogs of a container that has just completed while its next attempt is created', () => {
  let dir: string;
  let logServer: Server;
  let logPort: number;
  let apiStatus: PodStatus | undefined;
  const instance = (id: string, restartCount: number, state: 'exited' | 'created', createdAt: number) => ({
    id,
    name: 'c',
    state,
    restartCount,
    hash: '',
    createdAt,
    image: 'busybox',
    imageRef: 'sha256:busybox',
    ...(state === 'exited' ? { exitCode: 1 } : {}),
  });
  const terminated = (id: string) => ({
    terminated: { exitCode: 1, reason: 'Error', containerID: `containerd://${id}` },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-logs-attempt-${process.pid}-`));
    const containerDir = join(dir, 'default_p_u1', 'c');
    await mkdir(containerDir, { recursive: true });
    // Attempts 0 and 1 ran and wrote; attempt 2 is created, not started: the runtime has no log
    // file for it yet.
    await writeFile(join(containerDir, '0.log'), '2026-11-29T10:00:00.000000000Z stdout F first run\n');
    await writeFile(join(containerDir, '1.log'), '2026-11-29T10:01:00.000000000Z stdout F second run\n');
    const kubelet = {
      getPods: () => [pod],
      runtimeStatus: () => ({
        uid: 'u1',
        name: 'p',
        namespace: 'default',
        sandboxes: [],
        containers: [
          instance('a0', 0, 'exited', 1),
          instance('a1', 1, 'exited', 2),
          instance('a2', 2, 'created', 3),
        ],
      }),
      getPodStatus: () => apiStatus,
    } as unknown as Kubelet;
    logServer = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://kubelet');
      const [namespace, name, container] = url.pathname.split('/').slice(2) as [string, string, string];
      void serveContainerLogs(kubelet, dir, { namespace, pod: name, container }, url, request, response);
    });
    await new Promise<void>((resolve) => logServer.listen(0, '127.0.0.1', resolve));
    logPort = (logServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => logServer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const read = async (query = '') => {
    const response = await fetch(`http://127.0.0.1:${logPort}/containerLogs/default/p/c${query}`);
    return [response.status, await response.text()] as const;
  };

  it('reads the attempt the status names, as upstream, not the newest one the runtime holds', async () => {
    // Attempt 1 has just ended; the status says so while the runtime already holds attempt 2.
    apiStatus = {
      containerStatuses: [
        { ...waiting(), state: terminated('a1'), lastState: terminated('a0'), restartCount: 1 },
      ],
    };
    expect(await read()).toEqual([200, 'second run\n']);
    expect(await read('?previous=true')).toEqual([200, 'first run\n']);
    // Waiting out its back-off: the last termination is what `kubectl logs` shows.
    apiStatus = {
      containerStatuses: [
        {
          ...waiting('CrashLoopBackOff'),
          lastState: terminated('a1'),
          containerID: undefined,
          restartCount: 1,
        },
      ],
    };
    expect(await read()).toEqual([200, 'second run\n']);
    // Without a status naming an instance the runtime holds: the newest instance, as before.
    apiStatus = undefined;
    expect(await read()).toEqual([200, '']);
  });
});
