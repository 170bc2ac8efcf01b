import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ContainerStatus, Pod, PodStatus } from '../../src/api/pod-types';
import { type NodeHarness, startNodeHarness } from './node-harness';

/**
 * Fixture pods `restart-rules` (ContainerRestartRules, KEP-5307) and `restart-all`
 * (RestartAllContainers, KEP-5532) of fidelity/pods-v1.36, as stored, on a real
 * containerd through the in-process API server, compared with what upstream's kubelet v1.36.3
 * made of them (fidelity/pod-status-v1.36: statuses, conditions, events). Normalised:
 * the fixture's image is the test's busybox; the service-account token volume is dropped (no
 * token source here); times and container IDs are compared as present or null, not by value.
 */
const fidelity = new URL('../../../../fidelity/', import.meta.url);
const load = (path: string) =>
  parseAllDocuments(readFileSync(new URL(path, fidelity), 'utf8')).flatMap((d) => d.toJS() ?? []);
const names = ['restart-rules', 'restart-all'];

type Recorded = { pod: string; type: string; reason: string; message: string; fieldPath?: string };
const events: Recorded[] = [];
let node: NodeHarness;

beforeAll(async () => {
  node = await startNodeHarness({
    kubelet: {
      api: {
        recordEvent: (pod, type, reason, message, fieldPath) =>
          events.push({ pod: pod.metadata.name ?? '', type, reason, message, fieldPath }),
      },
    },
  });
}, 180_000);
afterAll(async () => node?.stop(), 120_000);

/** The stored fixture pod, ready for this node: our busybox, no service-account token volume. */
function fixturePod(name: string): { metadata: Pod['metadata']; spec: Omit<Pod['spec'], 'nodeName'> } {
  const stored = (load('pods-v1.36/pods.yaml') as Pod[]).find((p) => p.metadata.name === name)!;
  const token = (v: { name: string }) => v.name.startsWith('kube-api-access-');
  const { nodeName: _node, ...spec } = stored.spec;
  return {
    metadata: { name },
    spec: {
      ...spec,
      containers: spec.containers.map((c) => ({
        ...c,
        image: node.busybox,
        volumeMounts: c.volumeMounts?.filter((m) => !token(m)),
      })),
      volumes: spec.volumes?.filter((v) => !token(v)),
    },
  };
}

/** The fields the fixture's README names, times and IDs reduced to whether they are set. */
function compared(status: PodStatus) {
  const time = (value: string | null | undefined) => (value ? '<time>' : value);
  const container = (c: ContainerStatus) => {
    const last = c.lastState.terminated;
    return {
      name: c.name,
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: Object.keys(c.state),
      lastState: last && {
        ...last,
        startedAt: time(last.startedAt),
        finishedAt: time(last.finishedAt),
        ...(last.containerID ? { containerID: '<cid>' } : {}),
      },
    };
  };
  return {
    phase: status.phase,
    conditions: status.conditions?.map(({ lastProbeTime, lastTransitionTime, ...c }) => ({
      ...c,
      lastProbeTime,
      lastTransitionTime: time(lastTransitionTime),
    })),
    containerStatuses: [...(status.containerStatuses ?? [])]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(container),
  };
}

/** Both pods as upstream left them: every container running again, restarted once. */
function restartedOnce(pod: Pod): Pod | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const settled = pod.status?.conditions?.every(
    (c) => c.type !== 'AllContainersRestarting' || c.status === 'False',
  );
  return settled && statuses.length > 0 && statuses.every((c) => c.state.running && c.restartCount === 1)
    ? pod
    : undefined;
}

describe('container restart rules and RestartAllContainers on a real containerd (upstream v1.36)', () => {
  it('restart-rules and restart-all end as upstream v1.36.3 left them: status, conditions, events, logs', async () => {
    for (const name of names) node.createPod(fixturePod(name));
    const upstream = (load('pod-status-v1.36/pod-status.upstream.yaml') as Pod[]).filter((p) =>
      names.includes(p.metadata.name!),
    );
    expect(upstream).toHaveLength(2);
    for (const expected of upstream) {
      const name = expected.metadata.name!;
      // restart-all's trigger exits after 5 s; the machine is loaded: a generous hang guard.
      const pod = await node.waitPod(name, 'restarted once and running', restartedOnce, 120_000);
      expect(compared(pod.status!), name).toEqual(compared(expected.status!));
    }

    // Events: the distinct (fieldPath, type, reason, message) of each pod, as upstream posted them.
    const distinct = (list: Omit<Recorded, 'pod'>[]) =>
      [...new Set(list.map((e) => JSON.stringify([e.fieldPath, e.type, e.reason, e.message])))].sort();
    const upstreamEvents = load('pod-status-v1.36/events.upstream.yaml') as (Recorded & { object: string })[];
    for (const name of names) {
      const ours = events
        .filter((e) => e.pod === name)
        .map((e) => ({ ...e, message: e.message.replaceAll(node.busybox, 'localhost/busybox:1') }));
      expect(distinct(ours), name).toEqual(
        distinct(upstreamEvents.filter((e) => e.object === `Pod/${name}`)),
      );
    }

    // Logs: restart-rules' previous run is still there; restart-all's containers were removed.
    const rules = await node.kubectl(['logs', 'restart-rules', '--previous']);
    expect(rules.stdout).toBe('first-run\n');
    expect((await node.kubectl(['logs', 'restart-rules'])).stdout).toBe('second-run\n');
    const all = await node.kubectl(['logs', 'restart-all', '-c', 'trigger', '--previous']);
    expect(all.code).not.toBe(0);
    expect(all.stdout).toBe('');
    expect((await node.kubectl(['logs', 'restart-all', '-c', 'trigger'])).stdout).toBe('second-run\n');
  });
});
