/**
 * In-place pod resize on a real containerd (cgroup v1 here, cgroupsPerQOS with a private
 * cgroupRoot), driven through the in-process API server's pods/resize subresource exactly as
 * `kubectl patch pod P --subresource resize -p BODY` sends it, step by step as
 * fidelity/resize-v1.36 recorded upstream v1.36.3: each step's HTTP answer, the pod
 * once settled (generation, observedGeneration, conditions, allocatedResources, resources,
 * restarts, status.resources, qosClass), the pod and container cgroup files and the events.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Container, Pod } from '../../src/api/pod-types';
import { type CgroupFilesystem, detectCgroupFilesystem } from '../../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../../src/cgroups/pod-cgroup-manager';
import { type NodeHarness, startNodeHarness, waitFor } from './node-harness';

const fixtureDir = join(import.meta.dirname, '../../../../fidelity/resize-v1.36');

interface FixtureStep {
  pod: string;
  step: string;
  request: { spec: { containers: { name: string; resources: Container['resources'] }[] } } | null;
  patchHttpStatus?: number;
  patchError?: string;
  settledAfterSeconds?: number;
  after?: Record<string, unknown>;
  cgroupsV1?: { container: Record<string, number>; pod: Record<string, number> };
  events?: { type: string; reason: string; message: string }[];
  followPod?: {
    pod: string;
    after: Record<string, unknown>;
    cgroupsV1: { container: Record<string, number>; pod: Record<string, number> };
    events: { type: string; reason: string; message: string }[];
  };
}

const run = process.pid;
const cgroupRoot = `/na-resize-${run}`;
let node: NodeHarness;
let fs: CgroupFilesystem;
let cgroups: PodCgroupManager;
let steps: FixtureStep[];
const events: { pod: string; type: string; reason: string; message: string }[] = [];
const measured: { pod: string; step: string; status: number; settledMs?: number; upstreamS?: number }[] = [];

// A shell loop that exits 0 on SIGTERM at once (`wait` is interrupted by the trap, a foreground
// `sleep 1` would not be): the recording's restarted containers ended Completed, exit code 0.
// The shell is the container's PID 1, which the kernel shields from SIGTERM until the trap is
// set, so it leaves a marker once it is: a resize that restarts the container before then would
// see it killed after the grace period (exit 137), which no step of the recording does.
const loop = "trap 'exit 0' TERM; touch /tmp/trapped; while true; do sleep 1 & wait; done";

/** Waits until the pod's current container has set its SIGTERM trap (see `loop`). */
async function trapSet(pod: string): Promise<void> {
  const marker = ['sh', '-c', 'test -f /tmp/trapped && echo set'];
  await waitFor(
    `${pod}'s shell to set its TERM trap`,
    async () => ((await node.exec(pod, 'c', marker).catch(() => '')).trim() === 'set' ? true : undefined),
    60_000,
  );
}

function podSpec(name: string, resources: Container['resources'], memoryPolicy: string): Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'c',
          image: node.busybox,
          command: ['sh', '-c', loop],
          resources,
          resizePolicy: [
            { resourceName: 'cpu', restartPolicy: 'NotRequired' },
            { resourceName: 'memory', restartPolicy: memoryPolicy },
          ],
        } as Container,
      ],
    },
  } as Pod;
}

beforeAll(async () => {
  steps = parse(await readFile(join(fixtureDir, 'resize.upstream.yaml'), 'utf8')) as FixtureStep[];
  fs = await detectCgroupFilesystem();
  cgroups = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot });
  node = await startNodeHarness({
    kubelet: {
      cgroups,
      node: {
        allocatable: { cpu: '2', memory: '24683072Ki', pods: '110' },
      },
      api: {
        recordEvent: (pod, type, reason, message) =>
          events.push({ pod: pod.metadata.name ?? '', type, reason, message }),
      },
    },
  });
  // The Node's allocatable as the recording's kubelet reported it: the API server's resize
  // admission (PodResizeValidator) checks a resize against it.
  node.setNodeAllocatable({ cpu: '2', memory: '24683072Ki', pods: '110' });
}, 180_000);

afterAll(async () => {
  // Ours beside upstream per step (settle times), for the report this test exists for.
  console.log(JSON.stringify(measured));
  await node?.stop();
  await fs?.remove(cgroupRoot).catch(() => undefined);
}, 120_000);

/** What the fixture's `after` compares, from a pod as the API stores it (times and ids left out). */
function observed(pod: Pod): Record<string, unknown> {
  const status = pod.status ?? {};
  const c = status.containerStatuses?.[0];
  return {
    'metadata.generation': pod.metadata.generation,
    'status.observedGeneration': status.observedGeneration,
    'spec.containers[0].resources': pod.spec.containers[0]!.resources,
    'status.conditions': (status.conditions ?? []).map(
      ({ type, status: s, reason, message, observedGeneration }) =>
        JSON.parse(JSON.stringify({ type, observedGeneration, status: s, reason, message })),
    ),
    allocatedResources: c?.allocatedResources,
    resources: c?.resources,
    restartCount: c?.restartCount,
    state: Object.keys(c?.state ?? {})[0],
    lastState: c?.lastState?.terminated
      ? { exitCode: c.lastState.terminated.exitCode, reason: c.lastState.terminated.reason }
      : undefined,
    'status.resources': status.resources,
    'status.qosClass': status.qosClass,
  };
}

function expected(after: Record<string, unknown>): Record<string, unknown> {
  const c = after['status.containerStatuses[0]'] as {
    allocatedResources: unknown;
    resources: unknown;
    restartCount: number;
    state: Record<string, unknown>;
    lastState: { terminated?: { exitCode: number; reason: string } };
  };
  return {
    'metadata.generation': after['metadata.generation'],
    'status.observedGeneration': after['status.observedGeneration'],
    'spec.containers[0].resources': after['spec.containers[0].resources'],
    'status.conditions': (after['status.conditions'] as Record<string, unknown>[]).map(
      ({ lastTransitionTime: _t, ...rest }) =>
        JSON.parse(
          JSON.stringify({
            type: rest.type,
            observedGeneration: rest.observedGeneration,
            status: rest.status,
            reason: rest.reason,
            message: rest.message,
          }),
        ),
    ),
    allocatedResources: c.allocatedResources,
    resources: c.resources,
    restartCount: c.restartCount,
    state: Object.keys(c.state)[0],
    lastState: c.lastState.terminated
      ? { exitCode: c.lastState.terminated.exitCode, reason: c.lastState.terminated.reason }
      : undefined,
    'status.resources': after['status.resources'],
    'status.qosClass': after['status.qosClass'],
  };
}

async function cgroupValues(
  name: string,
): Promise<{ container: Record<string, number>; pod: Record<string, number> }> {
  const pod = node.getPod(name)!;
  const podPath = cgroups.podCgroupPath(pod);
  const id = pod.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
  const read = async (path: string) => ({
    'cpu.shares': Number(await fs.read(path, 'cpu.shares')),
    'cpu.cfs_quota_us': Number(await fs.read(path, 'cpu.cfs_quota_us')),
    'cpu.cfs_period_us': Number(await fs.read(path, 'cpu.cfs_period_us')),
    'memory.limit_in_bytes': Number(await fs.read(path, 'memory.limit_in_bytes')),
  });
  return { container: await read(`${podPath}/${id}`), pod: await read(podPath) };
}

/** The fixture's notion of settled: allocation and applied resources as asked, no resize condition, generation seen, running. */
function settled(pod: Pod, request: FixtureStep['request']): boolean {
  const want = request!.spec.containers[0]!.resources!;
  const c = pod.status?.containerStatuses?.[0];
  const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  return (
    c?.state.running !== undefined &&
    same(c.allocatedResources, want.requests) &&
    same(c.resources, want) &&
    !(pod.status?.conditions ?? []).some((x) => x.type.startsWith('PodResize')) &&
    pod.status?.observedGeneration === pod.metadata.generation
  );
}

function canonical(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => [k, canonical(x)]),
  );
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('in-place pod resize on containerd, step by step against resize-v1.36 (upstream v1.36.3)', () => {
  it('replays every step with upstream’s answers, statuses, cgroup values and events', async () => {
    const pods = node.api.resource('v1', 'pods');
    for (const step of steps) {
      const eventsBefore = events.length;
      if (step.request === null) {
        const initial = step.after!['spec.containers[0].resources'] as Container['resources'];
        const memoryPolicy = step.pod === 'rs-burstable' ? 'RestartContainer' : 'NotRequired';
        node.createPod(podSpec(step.pod, initial, memoryPolicy));
        await until(`${step.pod} running`, () => {
          const p = node.getPod(step.pod);
          return (
            p?.status?.containerStatuses?.[0]?.state.running !== undefined &&
            p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
          );
        });
      } else {
        let status = 200;
        let error: string | undefined;
        await trapSet(step.pod);
        const sent = performance.now();
        try {
          node.api.registry.patch(
            pods,
            'default',
            step.pod,
            'application/strategic-merge-patch+json',
            JSON.stringify(step.request),
            'resize',
          );
        } catch (e) {
          status = (e as { code?: number }).code ?? 0;
          error = (e as Error).message;
        }
        expect({ step: `${step.pod} ${step.step}`, status, error }).toEqual({
          step: `${step.pod} ${step.step}`,
          status: step.patchHttpStatus,
          error: step.patchError,
        });
        const entry: (typeof measured)[number] = {
          pod: step.pod,
          step: step.step,
          status,
          upstreamS: step.settledAfterSeconds,
        };
        measured.push(entry);
        if (status !== 200) continue;
        const deferred = step.step.startsWith('deferred');
        if (deferred) {
          await until(`${step.pod} ${step.step}: PodResizePending`, () =>
            (node.getPod(step.pod)?.status?.conditions ?? []).some((c) => c.type === 'PodResizePending'),
          );
        } else {
          await until(`${step.pod} ${step.step} settled`, () =>
            settled(node.getPod(step.pod)!, step.request),
          );
          entry.settledMs = performance.now() - sent;
        }
        if (step.followPod) {
          const follow = step.followPod;
          await until(`${follow.pod} after ${step.step}`, () =>
            settled(node.getPod(follow.pod)!, {
              spec: {
                containers: [
                  {
                    name: 'c',
                    resources: follow.after['spec.containers[0].resources'] as Container['resources'],
                  },
                ],
              },
            }),
          );
          measured.push({
            pod: follow.pod,
            step: `deferred resize done after ${step.pod} ${step.step}`,
            status: 200,
            settledMs: performance.now() - sent,
          });
          await node.kubelet.settle();
          expect(observed(node.getPod(follow.pod)!), `${follow.pod} after ${step.step}`).toEqual(
            expected(follow.after),
          );
          expect(await cgroupValues(follow.pod)).toEqual({
            container: follow.cgroupsV1.container,
            pod: follow.cgroupsV1.pod,
          });
        }
      }
      await node.kubelet.settle();
      const pod = node.getPod(step.pod)!;
      expect(observed(pod), `${step.pod} ${step.step}`).toEqual(expected(step.after!));
      expect(await cgroupValues(step.pod), `${step.pod} ${step.step} cgroups`).toEqual({
        container: step.cgroupsV1!.container,
        pod: step.cgroupsV1!.pod,
      });
      const resizeEvents = (list: { type: string; reason: string; message: string }[]) =>
        list
          .filter((e) => e.reason.startsWith('Resize') || e.reason === 'Killing')
          .map(({ type, reason, message }) => `${type} ${reason} ${message}`)
          // The fixture lists re-counted events (a second Killing) by their first creation.
          .sort();
      const ours = events.slice(eventsBefore).filter((e) => e.pod === step.pod);
      expect(resizeEvents(ours), `${step.pod} ${step.step} events`).toEqual(resizeEvents(step.events ?? []));
    }
  }, 300_000);
});
