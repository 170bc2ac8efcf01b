/**
 * Max-pods benchmark (`npm run bench -- kubelet`, script bench:max-pods), results in
 * bench-results/kubelet-max-pods.json. On a real containerd (tools/containerd, warm local
 * busybox) with an in-process API server: 110 pods (the default maxPods), each one busybox
 * container running `sleep` with an exec readiness probe (`/bin/true`, periodSeconds 10) and
 * terminationGracePeriodSeconds 1, created at once through the API. Reports create → all
 * Running and all Ready as a watcher on the API server sees them (and the largest Ready − Running
 * gap of a pod), process CPU seconds over a steady window with the 110 pods (the kubelet runs
 * in this process, beside the API server and the watcher), containerd's own CPU over the same
 * window, heap, RSS and V8's young generation idle / at 110 pods / 2 s after the delete and again
 * after 10 s more of quiet (each after a full GC), CRI calls per pod during the window, and
 * delete → all API objects gone (apiDeletedMs) and → the kubelet forgot every pod (deleteMs), with
 * the delete's steps (StopContainer, StopPodSandbox, the final status write, the API delete, the
 * object gone as the watcher sees it: when the median and the last pod began and ended each).
 *
 * Beside it, in the same run, the runtime's floor: the same 110 sandboxes and containers started
 * straight through CRI with one ExecSync each right after the start, the same exec probe load
 * over a steady window of the same length (one ExecSync per container per 10 s), then every
 * sandbox stopped and removed. Each kubelet figure is also given as a ratio to the floor's.
 * Needs root; skipped with a note otherwise. NODEAGENT_BENCH_STEADY_MS sets the window (60 s),
 * NODEAGENT_BENCH_PODS the pod count (110); NODEAGENT_BENCH_CPU_PROFILE=<file> writes a V8 CPU
 * profile of the kubelet's steady window there (open it in Chrome DevTools), and
 * NODEAGENT_BENCH_START_PROFILE=<file> one of the start burst (create → every pod Ready).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createCriClient } from '@nodeagent/cri-client';
import { coreV1Requests, Informer } from '@nodeagent/informer';
import { startApiServer } from '@nodeagent/testing';
import type { Pod } from '../src/entries/api';
import {
  ApiPodSource,
  apiPodStatusWriter,
  criPodRuntime,
  Kubelet,
  PodObjectManager,
  parseKubeletConfiguration,
} from '../src/index';
import { benchNode, benchNodeName, isReady, isRunning, startContainerd, waitFor } from './bench-node';
import { removeAllSandboxes, startProbedPodsThroughCri } from './cri-floor';
import { PhaseRecorder } from './pod-start-phases';

const PODS = Number(process.env.NODEAGENT_BENCH_PODS ?? 110);
const STEADY_MS = Number(process.env.NODEAGENT_BENCH_STEADY_MS ?? 60_000);
const PERIOD_MS = 10_000;
/** After the delete, how long the process idles before the second memory reading. */
const QUIET_MS = 10_000;
const PROBE = ['/bin/true'];
const root = fileURLToPath(new URL('../../../', import.meta.url));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;
const mb = (bytes: number) => round1(bytes / 2 ** 20);
const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(2) : null);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Heap and RSS after a full GC (MB), with V8's young generation (new space) as committed: V8 grows
 * it to 32 MB while the process allocates faster than about 1 MB/s and gives it back only at a GC
 * some seconds after the rate dropped, so it is most of what RSS gains under load.
 */
async function memory(): Promise<{ heapMB: number; rssMB: number; youngGenerationMB: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  const { heapUsed, rss } = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return { heapMB: mb(heapUsed), rssMB: mb(rss), youngGenerationMB: mb(young?.physical_space_size ?? 0) };
}

/** CPU seconds (user + system) of a process from /proc (containerd). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (USER_HZ = 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of this process and of containerd while `during` runs. */
async function cpuOver(containerdPid: number, during: () => Promise<void>) {
  const start = process.cpuUsage();
  const ctrStart = processCpuSeconds(containerdPid);
  await during();
  const used = process.cpuUsage(start);
  return {
    processCpuSeconds: round2((used.user + used.system) / 1e6),
    containerdCpuSeconds: round2(processCpuSeconds(containerdPid) - ctrStart),
  };
}

/** Runs `during` under the V8 profiler when `file` (from the environment) names a file. */
async function profiled(file: string | undefined, during: () => Promise<void>): Promise<void> {
  if (!file) return during();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    await during();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

async function maxPods(): Promise<Record<string, unknown>> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root for tools/containerd' };
  const containerd = await startContainerd();
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), `na-kubelet-maxpods-${process.pid}-`));
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const core = coreV1Requests(api.kubeConfig());
  const runningSeen = new Map<string, number>();
  const readySeen = new Map<string, number>();
  const present = new Set<string>();
  /** When the watcher first saw each pod with a deletionTimestamp (what the API server sent out). */
  const deletingSeen = new Map<string, number>();
  const watcher = new Informer<Pod>({
    kubeConfig: api.kubeConfig(),
    resource: { apiVersion: 'v1', plural: 'pods' },
  });
  const observe = (pod: Pod) => {
    const name = pod.metadata.name ?? '';
    present.add(name);
    if (!runningSeen.has(name) && isRunning(pod)) runningSeen.set(name, performance.now());
    if (!readySeen.has(name) && isReady(pod)) readySeen.set(name, performance.now());
    if (!deletingSeen.has(name) && pod.metadata.deletionTimestamp) deletingSeen.set(name, performance.now());
  };
  watcher.onAdd(observe);
  watcher.onUpdate((_old, object) => observe(object));
  const goneSeen = new Map<string, number>();
  watcher.onDelete((object) => {
    present.delete(object.metadata?.name ?? '');
    goneSeen.set(object.metadata?.name ?? '', performance.now());
  });
  const podsFor = (prefix: string): Pod[] =>
    Array.from({ length: PODS }, (_, i) => ({
      metadata: { name: `${prefix}-${i}`, namespace: 'default', uid: `${prefix}-${process.pid}-${i}` },
      spec: {
        nodeName: benchNodeName,
        containers: [
          {
            name: 'app',
            image: containerd.images.busybox.name,
            command: ['sh', '-c', 'sleep 3600'],
            readinessProbe: { exec: { command: PROBE }, periodSeconds: PERIOD_MS / 1000 },
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    }));

  try {
    watcher.start();
    await watcher.waitForSync();
    // Warm-up: the first sandboxes of a fresh containerd pay for loading the image and CNI.
    await startProbedPodsThroughCri(client, podsFor('warm').slice(0, 2), {
      podLogsDir: join(dir, 'floor-logs'),
      probe: PROBE,
      origin: performance.now(),
    });
    await removeAllSandboxes(client);

    // The floor: the same pods and probe load straight through CRI. On a loaded machine containerd
    // may time an exec out (DEADLINE_EXCEEDED); the floor counts it and carries on.
    const floorExecErrors: string[] = [];
    const countFloorExecError = (error: unknown) => void floorExecErrors.push(String(error).slice(0, 200));
    const floorIdle = await memory();
    const origin = performance.now();
    const floorPods = await startProbedPodsThroughCri(client, podsFor('floor'), {
      podLogsDir: join(dir, 'floor-logs'),
      probe: PROBE,
      origin,
    });
    const floorSteady = await cpuOver(containerd.pid, async () => {
      // One ExecSync per container per period, spread over the period as the pods started.
      const stop = performance.now() + STEADY_MS;
      await Promise.all(
        floorPods.map(async ({ containerId }, i) => {
          await sleep((i * PERIOD_MS) / floorPods.length);
          while (performance.now() < stop) {
            await client.execSync({ containerId, cmd: PROBE, timeout: 1 }).catch(countFloorExecError);
            await sleep(Math.min(PERIOD_MS, Math.max(0, stop - performance.now())));
          }
        }),
      );
    });
    const floorAt110 = await memory();
    const deleteStart = performance.now();
    await removeAllSandboxes(client);
    const floor = {
      allRunningMs: Math.round(Math.max(...floorPods.map((p) => p.runningMs))),
      allReadyMs: Math.round(Math.max(...floorPods.map((p) => p.readyMs))),
      readyAfterRunningMaxMs: Math.round(Math.max(...floorPods.map((p) => p.readyMs - p.runningMs))),
      firstExecTimeouts: floorPods.reduce((n, p) => n + p.execTimeouts, 0),
      steady: {
        ...floorSteady,
        execErrors: floorExecErrors.length,
        firstExecErrors: floorExecErrors.slice(0, 3),
      },
      memory: { idle: floorIdle, at110: floorAt110 },
      deleteMs: Math.round(performance.now() - deleteStart),
    };

    // The kubelet.
    const recorder = new PhaseRecorder();
    // ExecSync as the probes see it: the slowest call and what the failed ones said.
    const execs = { slowestMs: 0, failures: [] as string[] };
    const runtime = recorder.wrapRuntime(criPodRuntime(client));
    const execSync = runtime.execSync.bind(runtime);
    // Per container: when StartContainer returned, and when its first ExecSync began and ended.
    const containerTimes = new Map<string, { started: number; execBegan?: number; execEnded?: number }>();
    const startContainer = runtime.startContainer.bind(runtime);
    runtime.startContainer = async (id) => {
      await startContainer(id);
      containerTimes.set(id, { started: performance.now() });
    };
    runtime.execSync = async (id, command, timeoutSeconds) => {
      const began = performance.now();
      const times = containerTimes.get(id);
      const first = times !== undefined && times.execBegan === undefined;
      if (first) times.execBegan = began;
      try {
        const result = await execSync(id, command, timeoutSeconds);
        if (result.exitCode !== 0)
          execs.failures.push(`exit ${result.exitCode}: ${String(result.stderr).slice(0, 200)}`);
        return result;
      } catch (error) {
        execs.failures.push(String(error).slice(0, 200));
        throw error;
      } finally {
        execs.slowestMs = Math.max(execs.slowestMs, performance.now() - began);
        if (first) times.execEnded = performance.now();
      }
    };
    // The delete, step by step: when each pod's StopContainer, StopPodSandbox, final status
    // write and API delete began and ended (performance.now()), to see where the time goes.
    const deleteSteps = new Map<string, number[]>();
    const deletionSeen = new Set<string>();
    const markStep = (step: string) => {
      const list = deleteSteps.get(step) ?? [];
      list.push(performance.now());
      deleteSteps.set(step, list);
    };
    const timeStep =
      <A extends unknown[], R>(step: string, call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        markStep(`${step}Began`);
        try {
          return await call(...args);
        } finally {
          markStep(`${step}Ended`);
        }
      };
    runtime.stopContainer = timeStep('stopContainer', runtime.stopContainer.bind(runtime));
    runtime.stopPodSandbox = timeStep('stopPodSandbox', runtime.stopPodSandbox.bind(runtime));
    runtime.removePodSandbox = timeStep('removePodSandbox', runtime.removePodSandbox.bind(runtime));
    const statusWriter = apiPodStatusWriter(core);
    const patchStatus = statusWriter.patchStatus.bind(statusWriter);
    statusWriter.patchStatus = timeStep('statusWrite', patchStatus);
    if (statusWriter.deletePod)
      statusWriter.deletePod = timeStep('apiDelete', statusWriter.deletePod.bind(statusWriter));
    const objects = new PodObjectManager({ kubeConfig: api.kubeConfig(), core, resyncIntervalMs: 60_000 });
    const kubelet = new Kubelet({
      node: benchNode(join(dir, 'root')),
      runtime,
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs'),
        volumePluginDir: join(dir, 'volume-plugins'),
      }).config,
      api: {
        objects,
        statusWriter,
      },
    });
    await kubelet.start();
    const source = new ApiPodSource(api.kubeConfig(), benchNodeName, {
      add: (pod) => kubelet.addPod(pod),
      update: (pod) => {
        // The first update of each pod with its deletionTimestamp (later ones carry it too).
        const name = pod.metadata.name ?? '';
        if (pod.metadata.deletionTimestamp && !deletionSeen.has(name)) {
          deletionSeen.add(name);
          markStep('deletionSeen');
        }
        kubelet.updatePod(pod);
      },
      remove: (pod) => kubelet.removePod(pod),
    });
    await source.start();
    const pods = podsFor('kubelet');
    const names = pods.map((pod) => pod.metadata.name!);
    try {
      await sleep(1_000);
      const idle = await memory();
      recorder.calls.clear();
      const writesAtCreate = kubelet.statusManager.writes;
      const start = performance.now();
      await profiled(process.env.NODEAGENT_BENCH_START_PROFILE, async () => {
        await Promise.all(
          pods.map((body) => core.createNamespacedPod({ namespace: 'default', body: body as never })),
        );
        await waitFor(() => names.every((name) => runningSeen.has(name)), 300_000, `${PODS} pods Running`);
        await waitFor(() => names.every((name) => readySeen.has(name)), 300_000, `${PODS} pods Ready`);
      });
      const allRunningMs = Math.round(Math.max(...names.map((n) => runningSeen.get(n)! - start)));
      const allReadyMs = Math.round(Math.max(...names.map((n) => readySeen.get(n)! - start)));
      const readyAfterRunningMaxMs = Math.round(
        Math.max(...names.map((n) => readySeen.get(n)! - runningSeen.get(n)!)),
      );
      // Probe runs until every pod was Ready, by result (a failed run costs a period of Ready).
      const probeRuns: Record<string, number> = {};
      for (const { labels, value } of (await kubelet.metrics.proberProbeTotal.get()).values) {
        const result = String(labels.result);
        probeRuns[result] = (probeRuns[result] ?? 0) + value;
      }
      // Ours: StartContainer's return → the first probe's ExecSync; containerd's: that ExecSync.
      const firstExecs = [...containerTimes.values()].filter((t) => t.execEnded !== undefined);
      const spread = (values: number[]) => {
        const sorted = values.sort((a, b) => a - b);
        return {
          medianMs: Math.round(sorted[Math.floor((sorted.length - 1) / 2)] ?? 0),
          maxMs: Math.round(sorted.at(-1) ?? 0),
        };
      };
      const firstProbe = {
        startToExec: spread(firstExecs.map((t) => t.execBegan! - t.started)),
        exec: spread(firstExecs.map((t) => t.execEnded! - t.execBegan!)),
      };
      const execSyncUntilReady = {
        slowestMs: Math.round(execs.slowestMs),
        failed: execs.failures.length,
        firstFailures: execs.failures.slice(0, 5),
      };
      // What the start cost per pod: runtime calls (a PodRuntime method, one or more CRI calls)
      // and API status writes, from create until every pod was Ready.
      const startCallsPerPod = Object.fromEntries(
        [...recorder.calls]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([method, n]) => [method, round2(n / PODS)]),
      );
      const startStatusWritesPerPod = round2((kubelet.statusManager.writes - writesAtCreate) / PODS);
      // Let the start-up syncs settle, then the steady window.
      await sleep(2_000);
      recorder.calls.clear();
      const writesBefore = kubelet.statusManager.writes;
      const steady = await cpuOver(containerd.pid, () =>
        profiled(process.env.NODEAGENT_BENCH_CPU_PROFILE, () => sleep(STEADY_MS)),
      );
      // CRI calls the kubelet made in the window, per second (ExecSync: the probes).
      const criCallsPerSecond = Object.fromEntries(
        [...recorder.calls]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([method, n]) => [method, round2(n / (STEADY_MS / 1000))]),
      );
      const statusWritesInWindow = kubelet.statusManager.writes - writesBefore;
      const at110 = await memory();
      deleteSteps.clear();
      recorder.calls.clear();
      const deleteStart = performance.now();
      await Promise.all(
        names.map(async (name) => {
          await core.deleteNamespacedPod({ name, namespace: 'default' });
          markStep('deleteRequestAnswered');
        }),
      );
      // What an operator sees (the API objects gone), then the kubelet done with them too.
      await waitFor(() => names.every((name) => !present.has(name)), 300_000, 'pod objects deleted');
      const apiDeletedMs = Math.round(performance.now() - deleteStart);
      await waitFor(() => kubelet.getPods().length === 0, 300_000, 'pods forgotten by the kubelet');
      const deleteMs = Math.round(performance.now() - deleteStart);
      // What the watcher saw: each pod's deletionTimestamp, and its object gone.
      deleteSteps.set(
        'watcherSawDeletion',
        names.flatMap((name) => deletingSeen.get(name) ?? []),
      );
      deleteSteps.set(
        'apiObjectGone',
        names.flatMap((name) => goneSeen.get(name) ?? []),
      );
      // Each step's median and last time after the delete began (ms): when the kubelet began the
      // step for the median pod and for the last one.
      const deleteStepsMs = Object.fromEntries(
        [...deleteSteps].map(([step, times]) => {
          const sorted = times.map((t) => t - deleteStart).sort((a, b) => a - b);
          return [
            step,
            {
              calls: sorted.length,
              medianMs: Math.round(sorted[Math.floor((sorted.length - 1) / 2)] ?? 0),
              lastMs: Math.round(sorted.at(-1) ?? 0),
            },
          ];
        }),
      );
      // Runtime calls per pod from the delete until the kubelet forgot every pod (relists included).
      const deleteCallsPerPod = Object.fromEntries(
        [...recorder.calls]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([method, n]) => [method, round2(n / PODS)]),
      );
      await kubelet.settle();
      await sleep(2_000);
      const afterDelete = await memory();
      // V8 returns its young generation at a GC once allocation has been low for some seconds.
      await sleep(QUIET_MS);
      const afterDeleteQuiet = await memory();
      const kubeletResult = {
        allRunningMs,
        allReadyMs,
        readyAfterRunningMaxMs,
        probeRunsUntilReady: probeRuns,
        firstProbe,
        startCallsPerPod,
        startStatusWritesPerPod,
        execSyncUntilReady,
        steady: { ...steady, statusWritesInWindow, criCallsPerSecond },
        memory: {
          idle,
          at110,
          afterDelete,
          afterDeleteToIdle: {
            heap: ratio(afterDelete.heapMB, idle.heapMB),
            rss: ratio(afterDelete.rssMB, idle.rssMB),
          },
          afterDeleteQuiet,
          afterDeleteQuietToIdle: {
            heap: ratio(afterDeleteQuiet.heapMB, idle.heapMB),
            rss: ratio(afterDeleteQuiet.rssMB, idle.rssMB),
          },
          probedContainersAfterDelete: kubelet.prober.probedContainers,
        },
        apiDeletedMs,
        deleteMs,
        deleteStepsMs,
        deleteCallsPerPod,
      };
      return {
        pods: PODS,
        probe: `exec ${PROBE.join(' ')}, periodSeconds ${PERIOD_MS / 1000}`,
        steadyWindowMs: STEADY_MS,
        runtime: 'containerd (tools/containerd), in-process API server',
        criFloor: floor,
        kubelet: kubeletResult,
        ratioToFloor: {
          allRunning: ratio(allRunningMs, floor.allRunningMs),
          allReady: ratio(allReadyMs, floor.allReadyMs),
          steadyProcessCpu: ratio(steady.processCpuSeconds, floor.steady.processCpuSeconds),
          steadyContainerdCpu: ratio(steady.containerdCpuSeconds, floor.steady.containerdCpuSeconds),
          heapAt110: ratio(at110.heapMB, floor.memory.at110.heapMB),
          rssAt110: ratio(at110.rssMB, floor.memory.at110.rssMB),
          apiDeleted: ratio(apiDeletedMs, floor.deleteMs),
          delete: ratio(deleteMs, floor.deleteMs),
        },
      };
    } finally {
      await source.stop();
      await kubelet.stop();
      await objects.stop();
      await removeAllSandboxes(client);
    }
  } finally {
    await watcher.stop();
    client.close();
    await api.close();
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = { generatedAt: new Date().toISOString(), node: process.version, maxPods: await maxPods() };
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'kubelet-max-pods.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
