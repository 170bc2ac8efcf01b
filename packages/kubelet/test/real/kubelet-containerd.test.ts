import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, CriError, createCriClient } from '@nodeagent/cri-client';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { goGrpcError } from '../../src/cri/go-grpc-error';
import { Kubelet } from '../../src/kubelet';
import { waitFor } from '../helpers/wait-for';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';

/** Real time plus an offset the test can push forward (backoff timing without waiting). */
class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  setTimeout = systemClock.setTimeout;
  clearTimeout = systemClock.clearTimeout;
}

/** A hang guard for each wait. */
const WAIT_MS = 20_000;

let containerd: PrivateContainerd;
let client: CriClient;
let dir: string;
let busybox: string;
const clock = new OffsetClock();
const kubelets: Kubelet[] = [];

function newKubelet(): Kubelet {
  const kubelet = new Kubelet({
    node: {
      name: 'node-real',
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.70.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    pacing: {
      clock,
      relistPeriodMs: 200,
      retryMs: 500,
    },
  });
  kubelets.push(kubelet);
  return kubelet;
}

let podCount = 0;
function pod(spec: Partial<Pod['spec']>, name = `real-${++podCount}`): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `real-${process.pid}-${podCount}` },
    spec: {
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
      terminationGracePeriodSeconds: 2,
      ...spec,
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-real-${process.pid}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
}, 120_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets, client, containerd, dir });
}, 120_000);

describe('Kubelet on a real containerd', () => {
  it('runs a pod to Running with an IP from the CNI subnet, writes CRI logs, and execs into it', async () => {
    const kubelet = newKubelet();
    await kubelet.start();
    const p = pod({
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'echo hello-from-pod; sleep 3600'] }],
    });
    kubelet.addPod(p);
    const status = await waitFor(
      'Running',
      () => {
        const s = kubelet.getPodStatus(p.metadata.uid!);
        return s?.phase === 'Running' && s.podIP ? s : undefined;
      },
      WAIT_MS,
    );
    const prefix = containerd.podSubnet.split('.').slice(0, 3).join('.');
    expect(status.podIP!.startsWith(`${prefix}.`)).toBe(true);
    expect(status.containerStatuses![0]!.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    const logFile = join(dir, 'logs', `default_${p.metadata.name}_${p.metadata.uid}`, 'app', '0.log');
    let text = '';
    await waitFor(
      'the log line',
      () => {
        void readFile(logFile, 'utf8').then(
          (content) => {
            text = content;
          },
          () => undefined,
        );
        return text.includes('hello-from-pod');
      },
      WAIT_MS,
    );
    expect(text).toMatch(/^\S+ stdout F hello-from-pod$/m);
    const id = status.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const exec = await criPodRuntime(client).execSync(id, ['sh', '-c', 'echo $((6*7))'], 10);
    expect(exec.stdout.toString().trim()).toBe('42');
    // A command the image does not have: the runtime refuses the exec (an error, not an exit code),
    // which upstream's prober records as an errored probe (probe-events.test.ts; the fake says the same).
    const refused = await criPodRuntime(client)
      .execSync(id, ['/no/such/check'], 10)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(CriError);
    expect(goGrpcError(refused as CriError)).toMatch(
      /^rpc error: code = Unknown desc = failed to exec in container: failed to start exec "[0-9a-f]+": OCI runtime exec failed: .*\/no\/such\/check/,
    );
    // A restarted kubelet adopts the running pod: same containers, no duplicates.
    await kubelet.stop();
    const before = (await client.listContainers({})).containers.map((c) => c.id).sort();
    const next = newKubelet();
    await next.start();
    next.addPod(p);
    await next.settle();
    expect((await client.listContainers({})).containers.map((c) => c.id).sort()).toEqual(before);
    expect(next.getPodStatus(p.metadata.uid!)?.phase).toBe('Running');
    next.removePod(p);
    await next.settle();
  }, 60_000);

  it('starts init containers, then the sidecar, then the main container', async () => {
    const kubelet = newKubelet();
    await kubelet.start();
    const p = pod({
      initContainers: [
        { name: 'init', image: busybox, command: ['sh', '-c', 'sleep 0.2'] },
        { name: 'sidecar', image: busybox, command: ['sh', '-c', 'sleep 3600'], restartPolicy: 'Always' },
      ],
    });
    kubelet.addPod(p);
    const status = await waitFor(
      'Running',
      () => {
        const s = kubelet.getPodStatus(p.metadata.uid!);
        return s?.phase === 'Running' && s.containerStatuses?.[0]?.state.running ? s : undefined;
      },
      WAIT_MS,
    );
    expect(status.initContainerStatuses!.map((s) => Object.keys(s.state)[0])).toEqual([
      'terminated',
      'running',
    ]);
    const containers = (await client.listContainers({})).containers
      .filter((c) => c.labels['io.kubernetes.pod.uid'] === p.metadata.uid)
      .sort((a, b) => Number(a.createdAt - b.createdAt))
      .map((c) => c.metadata?.name);
    expect(containers).toEqual(['init', 'sidecar', 'app']);
    kubelet.removePod(p);
    await kubelet.settle();
    expect(
      (await client.listContainers({})).containers.filter(
        (c) => c.labels['io.kubernetes.pod.uid'] === p.metadata.uid,
      ),
    ).toEqual([]);
  }, 60_000);

  it('backs off a crashing container on schedule, reporting the exit until a later sync', async () => {
    const kubelet = newKubelet();
    await kubelet.start();
    const p = pod({ containers: [{ name: 'crash', image: busybox, command: ['sh', '-c', 'exit 2'] }] });
    kubelet.addPod(p);
    const crash = () => kubelet.getPodStatus(p.metadata.uid!)?.containerStatuses?.[0];
    // Upstream v1.36: after the immediate restart the exit stays the state while the back-off runs.
    const exited = await waitFor(
      'the second exit',
      () => {
        const c = crash();
        return c?.restartCount === 1 && c.state.terminated ? c : undefined;
      },
      WAIT_MS,
    );
    expect(exited.state.terminated?.exitCode).toBe(2);
    expect(exited.lastState.terminated?.exitCode).toBe(2);
    // A sync that finds the back-off recorded by an earlier one reports waiting CrashLoopBackOff.
    const waiting = (backOff: string) =>
      waitFor(
        `waiting, ${backOff}`,
        () => {
          kubelet.resyncPods([p]);
          const c = crash();
          return c?.state.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
        },
        WAIT_MS,
      ).then((c) => expect(c.state.waiting?.message).toContain(`back-off ${backOff}`));
    await waiting('10s');
    expect(crash()?.restartCount).toBe(1);
    clock.offset += 11_000;
    kubelet.resyncPods([p]);
    await waitFor(
      'the third exit',
      () => {
        const c = crash();
        return c?.restartCount === 2 && c.state.terminated ? c : undefined;
      },
      WAIT_MS,
    );
    await waiting('20s');
    kubelet.removePod(p);
    await kubelet.settle();
  }, 60_000);

  it('runs preStop before stopping a deleted pod and cleans up everything', async () => {
    const kubelet = newKubelet();
    await kubelet.start();
    const hostDir = join(dir, 'prestop');
    const p = pod({
      volumes: [{ name: 'out', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }],
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          volumeMounts: [{ name: 'out', mountPath: '/out' }],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo stopping > /out/prestop'] } } },
        },
      ],
    });
    kubelet.addPod(p);
    await waitFor('Running', () => kubelet.getPodStatus(p.metadata.uid!)?.phase === 'Running', WAIT_MS);
    kubelet.updatePod({
      ...p,
      metadata: { ...p.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 2 },
    });
    await kubelet.settle();
    expect((await readFile(join(hostDir, 'prestop'), 'utf8')).trim()).toBe('stopping');
    const left = (await client.listContainers({})).containers.filter(
      (c) => c.labels['io.kubernetes.pod.uid'] === p.metadata.uid,
    );
    expect(left).toEqual([]);
    const sandboxes = (await client.listPodSandbox({})).items.filter(
      (s) => s.labels['io.kubernetes.pod.uid'] === p.metadata.uid,
    );
    expect(sandboxes).toEqual([]);
    expect(await readdir(join(dir, 'root', 'pods')).catch(() => [])).not.toContain(p.metadata.uid);
  }, 60_000);

  it('after a restart, stops a pod deleted while it was down and unmounts its tmpfs volume', async () => {
    const kubelet = newKubelet();
    await kubelet.start();
    const p = pod({
      volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory' } }],
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
      ],
    });
    kubelet.addPod(p);
    await waitFor('Running', () => kubelet.getPodStatus(p.metadata.uid!)?.phase === 'Running', WAIT_MS);
    const scratch = join(
      dir,
      'root',
      'pods',
      p.metadata.uid!,
      'volumes',
      'kubernetes.io~empty-dir',
      'scratch',
    );
    const tmpfsAt = async (path: string) =>
      (await readFile('/proc/self/mounts', 'utf8')).split('\n').some((line) => line.split(' ')[1] === path);
    expect(await tmpfsAt(scratch)).toBe(true);
    const ofPod = async () => ({
      containers: (await client.listContainers({})).containers
        .filter((c) => c.labels['io.kubernetes.pod.uid'] === p.metadata.uid)
        .map((c) => c.state),
      sandboxes: (await client.listPodSandbox({})).items
        .filter((s) => s.labels['io.kubernetes.pod.uid'] === p.metadata.uid)
        .map((s) => s.state),
    });
    // Down with the pod running; the pod is deleted meanwhile, so no source gives it again.
    await kubelet.stop();
    const next = newKubelet();
    await next.start();
    await next.markSourcesReady();
    // Killed as an orphan (CONTAINER_EXITED = 2, SANDBOX_NOTREADY = 1), its tmpfs unmounted.
    await waitFor(
      'the orphan stopped',
      async () => JSON.stringify(await ofPod()) === JSON.stringify({ containers: [2], sandboxes: [1] }),
      WAIT_MS,
    );
    await waitFor('its tmpfs unmounted', async () => !(await tmpfsAt(scratch)), WAIT_MS);
  }, 60_000);
});
