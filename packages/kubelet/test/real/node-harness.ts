import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import type { Clock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../../src/cri/pod-runtime';
import { Kubelet } from '../../src/kubelet';
import { PodObjectManager } from '../../src/objects/pod-object-manager';
import { createKubeletServer, listen, type RunningServer } from '../../src/server/kubelet-server';
import { alwaysAllow, kubeletAuthenticator } from '../../src/server/server-auth';
import { criStreamingRuntime } from '../../src/server/streaming-runtime';
import { selfSignedCertificate } from '../../src/server/tls-material';
import type { StreamConnector } from '../../src/server/upgrade-proxy';
import { ApiPodSource } from '../../src/sources/api-pod-source';
import { ApiServiceLister } from '../../src/sources/api-service-lister';
import { apiPodStatusWriter } from '../../src/status/api-pod-status-writer';
import { type KubeletOverrides, withOverrides } from '../helpers/kubelet-overrides';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

/**
 * One node as the conformance tests see it: a private containerd, the in-process API server,
 * our Kubelet fed by an ApiPodSource (pods with spec.nodeName = this node) and a Service
 * informer, writing status through the API, and its TLS server registered on the Node so
 * pods/log, exec and attach go API server → kubelet → containerd.
 */
export interface NodeHarness {
  dir: string;
  nodeName: string;
  busybox: string;
  containerd: PrivateContainerd;
  client: CriClient;
  api: ApiServer;
  core: CoreV1Api;
  kubelet: Kubelet;
  /** The kubelet's Service informer. */
  services: ApiServiceLister;
  server: RunningServer;
  kubeconfig: string;
  /** Creates a pod bound to this node in `namespace` (default "default"). */
  createPod(pod: { metadata: Pod['metadata']; spec: Omit<Pod['spec'], 'nodeName'> }): Pod;
  /** A JSON merge patch of the stored pod (spec.activeDeadlineSeconds, annotations…). */
  patchPod(name: string, patch: object, namespace?: string): Pod;
  /**
   * The Node's status capacity and allocatable set to `allocatable`: the API server's resize
   * admission (PodResizeValidator) checks a resize against them.
   */
  setNodeAllocatable(allocatable: Record<string, string>): void;
  /** Deletes the pod through the API (graceful unless gracePeriodSeconds says otherwise). */
  deletePod(name: string, gracePeriodSeconds?: number, namespace?: string): void;
  /** The pod as the API stores it. */
  getPod(name: string, namespace?: string): Pod | undefined;
  /** Polls the stored pod until `check` returns something (or throws after timeoutMs). */
  waitPod<T>(name: string, what: string, check: (pod: Pod) => T | undefined, timeoutMs?: number): Promise<T>;
  /** Runs a command in a running container (CRI ExecSync); stdout as text. */
  exec(name: string, container: string, command: string[], namespace?: string): Promise<string>;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/**
 * A PodRuntime whose every call is looked up on `current()` when made: the harness makes its CRI
 * client itself, so a test builds its resource manager over that runtime once the harness exists
 * and swaps in the decorated runtime, while the kubelet already holds this one.
 */
export function runtimeLookedUpPerCall(current: () => PodRuntime | undefined): PodRuntime {
  return new Proxy({} as PodRuntime, {
    get: (_target, property) => {
      const runtime = current();
      const value = Reflect.get(runtime as PodRuntime, property) as unknown;
      return typeof value === 'function' ? value.bind(runtime) : value;
    },
  });
}

/** The private containerd's streaming server listens inside its netns: reach it through `busybox nc` there. */
export function netnsConnector(netnsPath: string): StreamConnector {
  return (host, port) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, 'busybox', 'nc', host, String(port)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
    duplex.on('close', () => child.kill());
    return duplex;
  };
}

/** The pod once it is Running with its containers reported and all running (for `waitPod`), else undefined. */
export function runningPod(pod: Pod): Pod | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return pod.status?.phase === 'Running' && statuses.length > 0 && statuses.every((c) => c.state.running)
    ? pod
    : undefined;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** kubectl with a kubeconfig, HOME and cache in `dir`; killed after 30 s; tracked in `children` for cleanup. */
export function runKubectl(
  kubeconfig: string,
  dir: string,
  children: Set<ChildProcess>,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {
      env: { ...process.env, HOME: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** Starts a node before the file's tests and stops it after them; `use` receives it. */
export function useNodeHarness(use: (node: NodeHarness) => void): void {
  let started: NodeHarness | undefined;
  beforeAll(async () => {
    started = await startNodeHarness();
    use(started);
  }, 180_000);
  afterAll(async () => {
    await started?.stop();
  }, 120_000);
}

export async function startNodeHarness(
  options: {
    clock?: Clock;
    kubelet?: KubeletOverrides;
    /** Stands between the kubelet and its CRI client (e.g. to record requests). */
    criClient?: (client: CriClient) => CriClient;
    /** KubeletConfiguration fields on top of the harness's (podLogsDir, clusterDomain). */
    config?: Record<string, unknown>;
  } = {},
): Promise<NodeHarness> {
  const nodeName = `node-c-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), `na-node-conformance-${process.pid}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  const containerd = await startPrivateContainerd();
  const busybox = containerd.images!.busybox.name;
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const podLogsDir = join(dir, 'logs');
  const rootDir = join(dir, 'root');
  const api = await startApiServer();
  api.writeKubeconfig(kubeconfig);
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const services = new ApiServiceLister(api.kubeConfig());
  services.start();
  await services.informer.waitForSync();
  const kubelet = new Kubelet(
    withOverrides(
      {
        api: {
          statusWriter: apiPodStatusWriter(core),
          objects: new PodObjectManager({
            strategy: 'Get',
            kubeConfig: api.kubeConfig(),
            core,
            resyncIntervalMs: 60_000,
          }),
          services,
        },
        node: {
          name: nodeName,
          rootDir,
          hostIPs: ['127.0.0.1'],
          memoryCapacity: 2 * 1024 ** 3,
        },
        runtime: criPodRuntime(options.criClient?.(client) ?? client),
        config: parseKubeletConfiguration({
          podLogsDir,
          volumePluginDir: join(dir, 'volume-plugins'),
          clusterDomain: 'cluster.local',
          ...options.config,
        }).config,
        pacing: {
          relistPeriodMs: 200,
          retryMs: 500,
          clock: options.clock,
        },
      },
      options.kubelet,
    ),
  );
  await kubelet.start();
  const server = await listen(
    createKubeletServer({
      kubelet,
      nodeName,
      podLogsDir,
      authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
      authorize: alwaysAllow,
      streaming: criStreamingRuntime(client, { connect: netnsConnector(containerd.netnsPath) }),
      tls: await selfSignedCertificate(nodeName, ['127.0.0.1']),
    }),
    0,
    '127.0.0.1',
  );
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    metadata: { name: nodeName },
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: server.port } },
    },
  });
  const source = new ApiPodSource(api.kubeConfig(), nodeName, {
    add: (pod) => kubelet.addPod(pod),
    update: (pod) => kubelet.updatePod(pod),
    remove: (pod) => kubelet.removePod(pod),
    mirrorPods: kubelet.mirrorPods,
  });
  await source.start();
  const children = new Set<ChildProcess>();
  const pods = api.resource('v1', 'pods');
  const getPod = (name: string, namespace = 'default') =>
    api.registry.find(pods, namespace, name) as unknown as Pod | undefined;

  return {
    dir,
    nodeName,
    busybox,
    containerd,
    client,
    api,
    core,
    kubelet,
    services,
    server,
    kubeconfig,
    createPod(pod) {
      const namespace = pod.metadata.namespace ?? 'default';
      return api.registry.create(pods, namespace, {
        ...pod,
        metadata: { ...pod.metadata, namespace },
        spec: { ...pod.spec, nodeName },
      }) as unknown as Pod;
    },
    getPod,
    patchPod(name, patch, namespace = 'default') {
      return api.registry.patch(
        pods,
        namespace,
        name,
        'application/merge-patch+json',
        JSON.stringify(patch),
      ) as unknown as Pod;
    },
    setNodeAllocatable(allocatable) {
      api.registry.patch(
        api.resource('v1', 'nodes'),
        undefined,
        nodeName,
        'application/merge-patch+json',
        JSON.stringify({ status: { capacity: allocatable, allocatable } }),
        'status',
      );
    },
    deletePod(name, gracePeriodSeconds, namespace = 'default') {
      api.registry.delete(
        pods,
        namespace,
        name,
        gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds },
      );
    },
    waitPod(name, what, check, timeoutMs = 60_000) {
      return waitFor(
        `${name}: ${what}`,
        () => {
          const pod = getPod(name);
          return pod ? check(pod) : undefined;
        },
        timeoutMs,
      );
    },
    async exec(name, container, command, namespace = 'default') {
      const pod = getPod(name, namespace);
      const status = [
        ...(pod?.status?.containerStatuses ?? []),
        ...(pod?.status?.initContainerStatuses ?? []),
        ...((pod?.status as { ephemeralContainerStatuses?: { name: string; containerID?: string }[] })
          ?.ephemeralContainerStatuses ?? []),
      ].find((c) => c.name === container);
      const id = status?.containerID?.replace('containerd://', '');
      if (!id) throw new Error(`${name}/${container} has no container ID`);
      const result = await criPodRuntime(client).execSync(id, command, 20);
      return result.stdout.toString();
    },
    kubectl: (args, stdin) => runKubectl(kubeconfig, dir, children, args, stdin),
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      await source.stop();
      for (const p of kubelet.getPods()) kubelet.removePod(p);
      await kubelet.settle().catch(() => undefined);
      await kubelet.stop();
      await services.stop();
      await server.close();
      await api.close();
      client.close();
      await containerd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
