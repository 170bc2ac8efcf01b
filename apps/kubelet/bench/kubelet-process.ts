/**
 * What the executable benches (rss.bench.ts, cpu.bench.ts) share: the nodeagent-kubelet single
 * executable started as its own process against an API server over HTTP, issue #35's probed pods
 * created through that API server, and a watch that says when they are Ready or gone.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, cgroupMemory, processMemory } from '@nodeagent/testing';
import { GC_TRACE_PRELOAD } from '../../kube-proxy/bench/scale-gc-trace';

const { sleep, waitFor } = processMemory;

/** Issue #35's pod count: the kubelet's default maxPods. */
export const MAX_PODS = 110;

/** Upstream's kernel tunables, read by the benched kubelets as /proc/sys (they write none). */
export const sysctlRoot = fileURLToPath(new URL('../test/fixtures/proc-sys-upstream', import.meta.url));

/** A loopback TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A running kubelet executable: its process, the environment it got, the tail of its stderr. */
export interface Kubelet {
  child: ChildProcess;
  env: Record<string, string>;
  stderr: () => string;
  /** The memory cgroup it runs in (processMemory readings then carry the working set); stopKubelet removes it. */
  cgroup?: cgroupMemory.MemoryCgroup;
}

/** How to start the executable besides the binary, API server, runtime endpoint and node name. */
export interface KubeletStart {
  /** Directory for the kubelet's home (kubeconfig, config, root dir, logs). */
  dir: string;
  /** Extra environment (the RSS bench's reporter, NODE_OPTIONS for a profile). */
  env?: Record<string, string>;
  /** The configuration's maxPods (default MAX_PODS). */
  maxPods?: number;
  /**
   * Run with V8's `--trace-gc` (a preload turns it on: NODE_OPTIONS refuses it), its lines
   * readable on `child.stdout`, which the caller must read (a full pipe stops the kubelet);
   * absent, stdout is ignored.
   */
  gcTrace?: boolean;
  /**
   * Called with each chunk of its stdout from the spawn on, before the Node registers: a trace a
   * preload in `env`'s NODE_OPTIONS turns on (the soak's `--trace-opt`) can fill the pipe first.
   */
  stdout?: (chunk: string) => void;
  /**
   * Runs the executable through another command that execs it (a memory cgroup's, prlimit).
   * Absent: it runs in a memory cgroup of its own (cgroupMemory.tryCreate).
   */
  wrap?: (command: string, args: string[]) => { command: string; args: string[] };
}

/** What the benches need of an API server: a kubeconfig for the kubelet, a client for themselves. */
export type ApiAccess = Pick<ApiServer, 'writeKubeconfig' | 'kubeConfig'>;

/** Starts the kubelet against `endpoint` and waits until it registered its Node. */
export async function startKubelet(
  binary: string,
  api: ApiAccess,
  endpoint: string,
  nodeName: string,
  options: KubeletStart,
): Promise<Kubelet> {
  const home = mkdtempSync(join(options.dir, `${nodeName}-`));
  api.writeKubeconfig(join(home, 'kubeconfig'));
  writeFileSync(
    join(home, 'config.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodLogsDir: ${join(home, 'logs')}\nvolumePluginDir: ${join(home, 'volume-plugins')}\naddress: 127.0.0.1\nmaxPods: ${options.maxPods ?? MAX_PODS}\n`,
  );
  const env = { ...options.env };
  if (options.gcTrace) {
    const preload = join(home, 'trace-gc.cjs');
    writeFileSync(preload, GC_TRACE_PRELOAD);
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${preload}`.trim();
  }
  let stderr = '';
  const direct = {
    command: binary,
    args: [
      '--config',
      join(home, 'config.yaml'),
      '--kubeconfig',
      join(home, 'kubeconfig'),
      '--hostname-override',
      nodeName,
      '--node-ip',
      '127.0.0.1',
      '--root-dir',
      join(home, 'root'),
      '--cert-dir',
      join(home, 'pki'),
      `--container-runtime-endpoint=${endpoint}`,
      `--port=${await freePort()}`,
      '--healthz-port=0',
      // No kubepods QoS cgroups: the bench kills the kubelet and must leave the host's cgroups alone.
      '--cgroups-per-qos=false',
      // Upstream refuses enforceNodeAllocatable (default [pods]) without the QoS cgroups.
      '--enforce-node-allocatable=',
      // failCgroupV1 defaults to true (v1.35+): the bench hosts may be cgroup v1.
      '--fail-cgroupv1=false',
      // No iptables chains (makeIPTablesUtilChains defaults to true): the bench runs on the host's
      // network and must leave its iptables alone.
      '--make-iptables-util-chains=false',
    ],
  };
  const cgroup = options.wrap ? undefined : cgroupMemory.tryCreate('kubelet');
  // Its executable's pages then count in its cgroup, as on a node that just booted.
  if (cgroup) cgroupMemory.dropFromPageCache(binary);
  const wrap = options.wrap ?? cgroup?.wrap.bind(cgroup);
  const { command, args } = wrap ? wrap(direct.command, direct.args) : direct;
  const child = spawn(
    command,
    args,
    // Its kernel tunables from upstream's values in the repository, never the bench host's /proc/sys.
    {
      stdio: ['ignore', options.gcTrace || options.stdout ? 'pipe' : 'ignore', 'pipe'],
      env: { ...process.env, NODEAGENT_KUBELET_SYSCTL_ROOT: sysctlRoot, ...env },
    },
  );
  if (options.stdout) child.stdout?.setEncoding('utf8').on('data', options.stdout);
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`kubelet exited: ${stderr}`);
      return (await core.readNode({ name: nodeName })).metadata?.name;
    },
    60_000,
    `Node ${nodeName}`,
  ).catch(async (err: Error) => {
    await stopKubelet({ child, env, stderr: () => stderr, ...(cgroup ? { cgroup } : {}) });
    throw new Error(`${err.message}\n${stderr}`);
  });
  return { child, env, stderr: () => stderr, ...(cgroup ? { cgroup } : {}) };
}

/** Kills the kubelet (SIGKILL: a bench measures, it does not test shutdown) and waits for its exit. */
export async function stopKubelet(k: Kubelet | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!k) return;
  // Exited or killed already (a killed child has a signalCode and no exitCode).
  if (k.child.exitCode === null && k.child.signalCode === null) {
    const exited = new Promise((resolve) => k.child.once('exit', resolve));
    k.child.kill(signal);
    await exited;
  }
  await k.cgroup?.remove();
}

/**
 * Pod bench-<i> on `nodeName`. Probed: issue #35's shape (an exec readiness probe `/bin/true`
 * every `periodSeconds`, 10 by default, terminationGracePeriodSeconds 1); otherwise issue #20's
 * plain `sleep` pod.
 */
export function benchPod(
  nodeName: string,
  image: string,
  i: number,
  probed: boolean,
  periodSeconds = 10,
): V1Pod {
  return {
    metadata: { name: `bench-${i}`, labels: { app: 'bench' } },
    spec: {
      nodeName,
      containers: [
        {
          name: 'app',
          image,
          command: ['sh', '-c', 'sleep 3600'],
          ...(probed ? { readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds } } : {}),
        },
      ],
      ...(probed ? { terminationGracePeriodSeconds: 1 } : {}),
    },
  };
}

/**
 * The pods as a watch on the API server sees them: which are Ready and which exist, so the
 * bench learns "all Ready" and "all gone" when it happens, not at its next poll.
 */
export class PodWatch {
  private readonly informer: Informer<Wire<V1Pod>>;
  private readonly ready = new Set<string>();
  private readonly present = new Set<string>();

  constructor(api: ApiAccess) {
    this.informer = new Informer<Wire<V1Pod>>({
      kubeConfig: api.kubeConfig(),
      resource: { apiVersion: 'v1', plural: 'pods' },
    });
    const observe = (pod: Wire<V1Pod>) => {
      const name = pod.metadata?.name ?? '';
      this.present.add(name);
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        this.ready.add(name);
    };
    this.informer.onAdd(observe);
    this.informer.onUpdate((_old, object) => observe(object));
    this.informer.onDelete((object) => {
      this.present.delete(object.metadata?.name ?? '');
      this.ready.delete(object.metadata?.name ?? '');
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Resolves once `test` holds (checked every 20 ms; the bench's hang guard is `timeoutMs`, 5 minutes by default). */
  async until(
    test: (w: { ready: number; present: number }) => boolean,
    what: string,
    timeoutMs = 300_000,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!test({ ready: this.ready.size, present: this.present.size })) {
      if (performance.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}: ${this.ready.size} Ready of ${this.present.size} present`,
        );
      await sleep(20);
    }
  }
}

/** Creates probed pods bench-<from>..bench-<to-1> at once and waits until `to` pods are Ready. */
export async function readyPods(
  api: ApiServer,
  watch: PodWatch,
  nodeName: string,
  image: string,
  from: number,
  to: number,
  periodSeconds = 10,
): Promise<void> {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await Promise.all(
    Array.from({ length: to - from }, (_, k) =>
      core.createNamespacedPod({
        namespace: 'default',
        body: benchPod(nodeName, image, from + k, true, periodSeconds),
      }),
    ),
  );
  // Pod starts are containerd-bound (a shim each): 250 took 132 s at load 40-100; 3 s a pod beyond 200.
  await watch.until(({ ready }) => ready >= to, `${to} Ready pods`, Math.max(600_000, to * 3_000));
}

/** Deletes pods bench-0..bench-<count-1> at once; the time until the API server has none left (ms). */
export async function deletePods(api: ApiServer, watch: PodWatch, count: number): Promise<number> {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      core.deleteNamespacedPod({ name: `bench-${i}`, namespace: 'default' }),
    ),
  );
  await watch.until(({ present }) => present === 0, 'every pod object deleted');
  return Math.round(performance.now() - start);
}
