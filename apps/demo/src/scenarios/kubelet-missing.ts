import type { KubeObject } from '@nodeagent/testing';
import { DemoError } from '../errors';
import { leaseRenewTime, nodeState, type PodState, podStates, UNREACHABLE_TAINT } from './cluster-reading';
import {
  type RuntimeContainer,
  realClock,
  type ScenarioBox,
  type ScenarioClock,
  type ScenarioNode,
} from './scenario-box';
import type { KubeletMissingEvent, ScenarioProblem } from './scenario-events';
import { checkAgent, waitFor } from './wait-for';

export interface KubeletMissingOptions {
  box: ScenarioBox;
  /** Label (key=value) selecting the workload's ReplicaSet pods. */
  workloadSelector: { key: string; value: string };
  /** The node whose kubelet stops; default: the node running the most workload pods. */
  node?: string;
  /**
   * The kubelet's Lease renew interval (upstream: 25% of nodeLeaseDurationSeconds 40 = 10 s):
   * a Lease older than this (plus one poll) since the stop has missed a renewal.
   */
  leaseRenewIntervalMs: number;
  /** Limit for each single wait; it only guards a hang, so it must exceed grace period + toleration. */
  waitTimeoutMs: number;
  pollMs?: number;
  clock?: ScenarioClock;
}

export class ScenarioSetupError extends DemoError {
  constructor(field: string, value: unknown, message: string) {
    super('SCENARIO_SETUP', field, value, message);
  }
}

type Emit = KubeletMissingEvent | ScenarioProblem;
/** An event without its time: the generator stamps it when it is observed. */
type Untimed<E> = E extends unknown ? Omit<E, 'atMs'> : never;

const podLabel = (c: RuntimeContainer) => `${c.podNamespace}/${c.podName}`;

/**
 * Stops the kubelet on one node and yields each effect as it is observed through the API and the
 * node's runtime, then restarts it and yields the recovery. Upstream's behaviour is what is
 * expected: nothing here makes it happen except the stop, the start, one container kill, one
 * pod creation and one pod deletion (what an operator would do to see it).
 */
export async function* kubeletMissing(options: KubeletMissingOptions): AsyncGenerator<Emit> {
  const { box, workloadSelector: sel } = options;
  const clock = options.clock ?? realClock;
  const pollMs = options.pollMs ?? 500;
  const run: ScenarioRun = {
    options,
    api: box.api,
    ns: box.namespace,
    clock,
    pollMs,
    stoppedAt: clock.now(),
    at: (event) => ({ ...event, atMs: clock.now() - run.stoppedAt }) as Emit,
    wait: (what, probe, lastSeen) => waitFor(clock, what, options.waitTimeoutMs, pollMs, probe, lastSeen),
    isWorkload: (p) => p.labels[sel.key] === sel.value,
  };
  const victim = yield* setUpVictim(run);
  const exitedAt = yield* stopKubeletAndKillContainer(run, victim);
  yield* nodeGoesUnreachable(run, victim);
  yield* podsStayWithoutKubelet(run, victim);
  yield* evictionAndReplacement(run, victim, exitedAt);
  yield* recovery(run, victim);
  yield* noDuplicates(box.nodes, victim.node, run.at);
}

/** What every phase of the scenario shares. */
interface ScenarioRun {
  readonly options: KubeletMissingOptions;
  readonly api: ScenarioBox['api'];
  readonly ns: string;
  readonly clock: ScenarioClock;
  readonly pollMs: number;
  /** When the kubelet stopped (the scenario's start until then): event times count from it. */
  stoppedAt: number;
  /** Stamps an event with its time since the stop. */
  at(event: Untimed<Emit>): Emit;
  /** Polls `probe` until it returns something, within the scenario's hang guard. */
  wait<T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    lastSeen?: () => unknown,
  ): Promise<T>;
  /** A pod of the workload's ReplicaSet. */
  isWorkload(p: PodState): boolean;
}

/** The node whose kubelet stops, and what the scenario placed and picked on it beforehand. */
interface Victim {
  readonly node: ScenarioNode;
  readonly name: string;
  /** Every workload pod, as placed before the stop. */
  readonly placed: PodState[];
  /** The workload pods on the victim. */
  readonly pods: PodState[];
  /** The pod whose container is killed while the kubelet is away. */
  readonly killPod: PodState;
  readonly killTarget: RuntimeContainer;
  /** The pod spec the scenario's own pods copy. */
  readonly template: KubeObject & { spec: Record<string, unknown> };
  /** The scenario's own pod on the victim, deleted while the kubelet is away. */
  readonly lonelyName: string;
}

const running = (cs: RuntimeContainer[]) => cs.filter((c) => c.state === 'running');

/**
 * The workload runs (every ReplicaSet pod Running); the node is picked (the one with the most
 * pods), a pod of our own placed on it and a container to kill found.
 */
async function* setUpVictim(run: ScenarioRun): AsyncGenerator<Emit, Victim> {
  const { api, ns, options, wait, at } = run;
  const { box } = options;
  const placed = await wait(
    'workload pods Running',
    () => {
      const pods = podStates(api, ns).filter(run.isWorkload);
      return pods.length > 0 && pods.every((p) => p.phase === 'Running' && !p.deleting) ? pods : undefined;
    },
    () =>
      podStates(api, ns)
        .filter(run.isWorkload)
        .map((p) => `${p.name} ${p.phase} ${p.nodeName}`),
  );
  const victimName = options.node ?? busiestNode(placed);
  const victim = box.nodes.find((n) => n.name === victimName);
  if (!victim) throw new ScenarioSetupError('node', victimName, 'is not a node of the box');
  if (box.nodes.length < 2)
    throw new ScenarioSetupError('nodes', box.nodes.length, 'the scenario needs 2 nodes or more');
  const victimPods = placed.filter((p) => p.nodeName === victimName);
  const killPod = victimPods[0];
  if (!killPod) throw new ScenarioSetupError('node', victimName, 'runs no workload pod');
  yield at({ type: 'workload-placed', node: victimName, pods: victimPods.map((p) => p.name) });

  // A pod of our own on that node, to delete while the kubelet is away (its spec copied from the
  // workload's, without its labels so neither the ReplicaSet nor the Service adopt it).
  const template = api.get('v1', 'pods', ns, killPod.name) as KubeObject & { spec: Record<string, unknown> };
  const lonely = api.create('v1', 'pods', ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'scenario-deleted-later', namespace: ns },
    spec: { containers: template.spec.containers, nodeName: victimName, terminationGracePeriodSeconds: 2 },
  });
  const lonelyName = lonely.metadata.name ?? '';
  await wait('pod scenario-deleted-later Running', () =>
    podStates(api, ns).find((p) => p.name === lonelyName && p.phase === 'Running'),
  );
  const killTarget = await wait(`a running container of ${killPod.name}`, async () =>
    running(await victim.runtime.listContainers()).find((c) => c.podName === killPod.name),
  );
  return {
    node: victim,
    name: victimName,
    placed,
    pods: victimPods,
    killPod,
    killTarget,
    template,
    lonelyName,
  };
}

/**
 * The stop: the process is gone, nothing else on the node changes. A container that exits then
 * is not restarted: one is killed, and must stay exited until the kubelet returns. Returns when
 * it exited.
 */
async function* stopKubeletAndKillContainer(run: ScenarioRun, v: Victim): AsyncGenerator<Emit, number> {
  const { wait, at, clock } = run;
  const { killTarget, killPod } = v;
  run.stoppedAt = clock.now();
  const { pid } = await v.node.stopKubelet();
  yield at({ type: 'kubelet-stopped', node: v.name, pid });
  await v.node.runtime.killContainer(killTarget.id);
  yield at({
    type: 'container-killed',
    node: v.name,
    pod: killPod.name,
    container: killTarget.name,
    containerId: killTarget.id,
  });
  await wait(`container ${killTarget.id} exited`, async () =>
    (await v.node.runtime.listContainers()).find((c) => c.id === killTarget.id && c.state === 'exited'),
  );
  const exitedAt = clock.now();
  yield at({
    type: 'container-exited',
    node: v.name,
    pod: killPod.name,
    container: killTarget.name,
    containerId: killTarget.id,
  });
  return exitedAt;
}

/** The Lease stops renewing, the node goes Ready=Unknown and gets the unreachable taints. */
async function* nodeGoesUnreachable(run: ScenarioRun, v: Victim): AsyncGenerator<Emit> {
  const { api, wait, at, clock } = run;
  const victimName = v.name;
  // Its renewTime falls behind by more than one renew interval.
  const lastRenew = await wait(
    'the Lease to miss a renewal',
    () => {
      const renew = leaseRenewTime(api, victimName);
      return renew !== undefined && clock.now() - renew > run.options.leaseRenewIntervalMs + run.pollMs
        ? renew
        : undefined;
    },
    () => leaseRenewTime(api, victimName),
  );
  yield at({ type: 'lease-not-renewed', node: victimName, lastRenewAtMs: lastRenew - run.stoppedAt });

  const unknown = await wait(
    `node ${victimName} Ready=Unknown`,
    () => {
      const n = nodeState(api, victimName);
      return n && n.ready === 'Unknown' ? n : undefined;
    },
    () => nodeState(api, victimName),
  );
  yield at({
    type: 'node-not-ready',
    node: victimName,
    status: unknown.ready,
    reason: unknown.reason,
    message: unknown.message,
  });

  const taints = await wait(
    `unreachable taints on ${victimName}`,
    () => {
      const t = nodeState(api, victimName)?.taints.filter((x) => x.key === UNREACHABLE_TAINT) ?? [];
      const effects = new Set(t.map((x) => x.effect));
      return effects.has('NoSchedule') && effects.has('NoExecute') ? t : undefined;
    },
    () => nodeState(api, victimName)?.taints,
  );
  yield at({ type: 'taints-added', node: victimName, taints: taints.map((t) => `${t.key}:${t.effect}`) });
}

/**
 * Without its kubelet the node's pods keep running, no new pod lands there, and a deleted pod's
 * containers keep running (no kubelet stops them).
 */
async function* podsStayWithoutKubelet(run: ScenarioRun, v: Victim): AsyncGenerator<Emit> {
  const { api, ns, wait, at } = run;
  const { name: victimName, killPod, lonelyName, template } = v;
  // Its pods keep running: the runtime still runs their containers, nobody stopped them.
  const stillRunning = [...new Set(running(await v.node.runtime.listContainers()).map(podLabel))].sort();
  yield at({ type: 'pods-still-running', node: victimName, pods: stillRunning });
  for (const p of [...v.pods.filter((p) => p.name !== killPod.name).map((p) => p.name), lonelyName]) {
    if (!stillRunning.includes(`${ns}/${p}`))
      yield at({ type: 'problem', what: `pod ${p} stopped running on ${victimName} without its kubelet` });
  }

  // No new pod lands there: a fresh pod is scheduled onto another node.
  const probe = api.create('v1', 'pods', ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'scenario-new-pod', namespace: ns },
    spec: { containers: template.spec.containers, terminationGracePeriodSeconds: 2 },
  });
  const probeName = probe.metadata.name ?? '';
  const probeNode = await wait(
    `${probeName} scheduled`,
    () => podStates(api, ns).find((p) => p.name === probeName && p.nodeName)?.nodeName,
  );
  yield at({ type: 'new-pod-elsewhere', pod: probeName, node: probeNode });
  if (probeNode === victimName)
    yield at({
      type: 'problem',
      what: `${probeName} was scheduled onto ${victimName}, which is unreachable`,
    });

  api.delete('v1', 'pods', ns, lonelyName);
  yield at({ type: 'pod-deleted', node: victimName, pod: lonelyName });
  const lonelyContainers = running(await v.node.runtime.listContainers()).filter(
    (c) => c.podName === lonelyName,
  );
  yield at({
    type: 'deleted-pod-still-running',
    node: victimName,
    pod: lonelyName,
    containers: lonelyContainers.map((c) => c.name),
  });
  if (lonelyContainers.length === 0)
    yield at({ type: 'problem', what: `the deleted pod ${lonelyName} has no running container left` });
}

/**
 * After the toleration, taint-based eviction deletes the node's workload pods and the ReplicaSet
 * recreates them elsewhere; the killed container meanwhile stays exited (nothing restarted it).
 */
async function* evictionAndReplacement(run: ScenarioRun, v: Victim, exitedAt: number): AsyncGenerator<Emit> {
  const { api, ns, wait, at, clock } = run;
  const { name: victimName, killPod, killTarget } = v;
  const victimPodNames = v.pods.map((p) => p.name);
  await wait(
    `eviction of ${victimPodNames.join(', ')}`,
    () => {
      const pods = podStates(api, ns);
      return victimPodNames.every((n) => pods.find((p) => p.name === n)?.deleting ?? true) ? true : undefined;
    },
    () =>
      podStates(api, ns)
        .filter((p) => victimPodNames.includes(p.name))
        .map((p) => `${p.name} deleting=${p.deleting}`),
  );
  yield at({ type: 'pods-evicted', node: victimName, pods: victimPodNames });

  // ...and the ReplicaSet recreates them elsewhere (its active pods back to the count, all Running off the node).
  const replicas = v.placed.length;
  const recreated = await wait(
    'replacements Running on other nodes',
    () => {
      const active = podStates(api, ns).filter((p) => run.isWorkload(p) && !p.deleting);
      const fresh = active.filter((p) => !v.placed.some((q) => q.uid === p.uid));
      return active.length >= replicas &&
        fresh.length >= v.pods.length &&
        fresh.every((p) => p.phase === 'Running' && p.nodeName !== victimName)
        ? fresh
        : undefined;
    },
    () =>
      podStates(api, ns)
        .filter(run.isWorkload)
        .map((p) => `${p.name} ${p.phase} ${p.nodeName} deleting=${p.deleting}`),
  );
  yield at({ type: 'pods-recreated', pods: recreated.map((p) => ({ pod: p.name, node: p.nodeName })) });

  // The killed container is still exited, and no newer attempt of it exists: nothing restarted it.
  const now = await v.node.runtime.listContainers();
  const restarted = now.filter(
    (c) => c.podName === killPod.name && c.name === killTarget.name && c.attempt > killTarget.attempt,
  );
  if (now.find((c) => c.id === killTarget.id)?.state !== 'exited' || restarted.length > 0) {
    yield at({
      type: 'problem',
      what: `container ${killTarget.name} of ${killPod.name} was restarted without a kubelet`,
    });
  } else {
    yield at({
      type: 'container-not-restarted',
      node: victimName,
      pod: killPod.name,
      container: killTarget.name,
      exitedForMs: clock.now() - exitedAt,
    });
  }
}

/** Recovery: the kubelet comes back and reconciles (Ready, taints off, deleted pods' containers stopped). */
async function* recovery(run: ScenarioRun, v: Victim): AsyncGenerator<Emit> {
  const { api, wait, at } = run;
  const victimName = v.name;
  const started = await v.node.startKubelet();
  yield at({ type: 'kubelet-started', node: victimName, pid: started.pid });
  await wait(
    `node ${victimName} Ready=True`,
    () => {
      checkAgent(v.node, 'kubelet');
      return nodeState(api, victimName)?.ready === 'True' ? true : undefined;
    },
    () => nodeState(api, victimName),
  );
  yield at({ type: 'node-ready', node: victimName });
  await wait(
    `unreachable taints removed from ${victimName}`,
    () => (nodeState(api, victimName)?.taints.some((t) => t.key === UNREACHABLE_TAINT) ? undefined : true),
    () => nodeState(api, victimName)?.taints,
  );
  yield at({ type: 'taints-removed', node: victimName });
  const gone = [v.lonelyName, ...v.pods.map((p) => p.name)];
  await wait(
    `containers of ${gone.join(', ')} stopped`,
    async () => {
      const left = running(await v.node.runtime.listContainers()).filter((c) => gone.includes(c.podName));
      return left.length === 0 ? true : undefined;
    },
    () => gone,
  );
  yield at({ type: 'deleted-pod-stopped', node: victimName, pods: gone });
}

/** One running container per (pod, container name) on each node, and each pod on one node only. */
async function* noDuplicates(
  nodes: ScenarioNode[],
  victim: ScenarioNode,
  at: (event: Untimed<Emit>) => Emit,
): AsyncGenerator<Emit> {
  const owners = new Map<string, string>();
  let count = 0;
  for (const node of nodes) {
    const seen = new Set<string>();
    for (const c of (await node.runtime.listContainers()).filter((x) => x.state === 'running')) {
      const key = `${c.podUid}/${c.name}`;
      if (seen.has(key))
        yield at({
          type: 'problem',
          what: `container ${c.name} of ${podLabel(c)} runs twice on ${node.name}`,
        });
      seen.add(key);
      const other = owners.get(c.podUid);
      if (other && other !== node.name)
        yield at({ type: 'problem', what: `pod ${podLabel(c)} runs on ${other} and ${node.name}` });
      owners.set(c.podUid, node.name);
      if (node === victim) count++;
    }
  }
  yield at({ type: 'no-duplicates', node: victim.name, containers: count });
}

function busiestNode(pods: PodState[]): string {
  const counts = new Map<string, number>();
  for (const p of pods) counts.set(p.nodeName, (counts.get(p.nodeName) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? '';
}
