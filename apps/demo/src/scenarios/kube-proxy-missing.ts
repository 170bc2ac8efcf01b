import type { KubeObject } from '@nodeagent/testing';
import { ScenarioSetupError } from './kubelet-missing';
import { realClock, type ScenarioBox, type ScenarioClock, type ScenarioNode } from './scenario-box';
import type { KubeProxyMissingEvent, ScenarioProblem } from './scenario-events';
import { checkAgent, waitFor } from './wait-for';

export interface KubeProxyMissingOptions {
  box: ScenarioBox;
  /** The Service that exists before the stop (its rules are already in the node's kernel). */
  service: string;
  /** The node whose kube-proxy stops; default: the last node. */
  node?: string;
  /** Requests from the node to the new Service that must all fail while kube-proxy is away. */
  failedAttempts?: number;
  /** Requests to the existing Service that must all succeed while kube-proxy is away. */
  requests?: number;
  /**
   * A ReplicaSet of one pod, labels of its own, that the scenario creates with a Service
   * `scenario-moved` selecting exactly its pod: while kube-proxy is away the pod is deleted, the
   * ReplicaSet replaces it (a new pod IP) and the node's stale rules still point at the old IP.
   */
  movingWorkload: KubeObject;
  /** kube-proxy's /metrics inside the node's namespace (upstream's metricsBindAddress default). */
  metricsUrl?: string;
  /** Limit for each single wait (only guards a hang). */
  waitTimeoutMs: number;
  pollMs?: number;
  clock?: ScenarioClock;
}

type Emit = KubeProxyMissingEvent | ScenarioProblem;
type Untimed<E> = E extends unknown ? Omit<E, 'atMs'> : never;

interface ServiceObject extends KubeObject {
  spec?: {
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  };
}

export const NEW_SERVICE_NAME = 'scenario-new';
export const MOVED_SERVICE_NAME = 'scenario-moved';
const DEFAULT_METRICS_URL = 'http://127.0.0.1:10249/metrics';
const LAST_SYNC_METRIC = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';

interface PodObject extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string };
}

/**
 * The time (ms since the epoch) of kube-proxy's last completed sync; undefined before its first.
 * Since v1.33 the gauge has one series per IP family (`{ip_family="IPv4"}`): the newest counts.
 */
export function lastSyncMs(metrics: string): number | undefined {
  let newest: number | undefined;
  for (const line of metrics.split('\n')) {
    const [series, value] = line.trim().split(/\s+/);
    if (series?.replace(/\{.*\}$/, '') !== LAST_SYNC_METRIC || value === undefined) continue;
    const seconds = Number(value);
    // prom-client prints an unset gauge as 0: no sync yet.
    if (Number.isFinite(seconds) && seconds > 0) newest = Math.max(newest ?? 0, seconds * 1000);
  }
  return newest;
}

/**
 * Stops kube-proxy on one node: what is already in its kernel keeps working, a Service created
 * afterwards and a Service whose only endpoint moved (pod replaced, new IP) are reachable from
 * every other node but not from this one, and a restarted kube-proxy repairs the node by its first
 * sync (read from its last-sync metric).
 */
export async function* kubeProxyMissing(options: KubeProxyMissingOptions): AsyncGenerator<Emit> {
  const { box } = options;
  const clock = options.clock ?? realClock;
  const pollMs = options.pollMs ?? 500;
  if (box.nodes.length < 2)
    throw new ScenarioSetupError('nodes', box.nodes.length, 'the scenario needs 2 nodes or more');
  const victimName = options.node ?? box.nodes.at(-1)?.name ?? '';
  const victim = box.nodes.find((n) => n.name === victimName);
  if (!victim) throw new ScenarioSetupError('node', victimName, 'is not a node of the box');
  const run: ScenarioRun = {
    options,
    api: box.api,
    ns: box.namespace,
    clock,
    victim,
    victimName,
    others: box.nodes.filter((n) => n !== victim),
    stoppedAt: clock.now(),
    at: (event) => ({ ...event, atMs: clock.now() - run.stoppedAt }) as Emit,
    wait: (what, probe, lastSeen) => waitFor(clock, what, options.waitTimeoutMs, pollMs, probe, lastSeen),
    answer: (node, url) =>
      node.fetch(url).then(
        (body) => body.trim(),
        () => undefined,
      ),
  };
  const existing = yield* existingServiceBaseline(run);
  const moving = yield* movingServiceBaseline(run, existing.port);

  run.stoppedAt = clock.now();
  const { pid } = await victim.stopKubeProxy();
  yield run.at({ type: 'kube-proxy-stopped', node: victimName, pid });

  yield* existingServiceKeepsWorking(run, existing.url);
  const newUrl = yield* newServiceMissingHere(run, existing);
  const newName = yield* endpointMovesElsewhere(run, moving);
  yield* repairedByFirstSync(run, newUrl, moving.url, newName);
}

/** What every phase of the scenario shares. */
interface ScenarioRun {
  readonly options: KubeProxyMissingOptions;
  readonly api: ScenarioBox['api'];
  readonly ns: string;
  readonly clock: ScenarioClock;
  /** The node whose kube-proxy stops. */
  readonly victim: ScenarioNode;
  readonly victimName: string;
  /** Every other node (their kube-proxies keep running). */
  readonly others: ScenarioNode[];
  /** When kube-proxy stopped (the scenario's start until then): event times count from it. */
  stoppedAt: number;
  /** Stamps an event with its time since the stop. */
  at(event: Untimed<Emit>): Emit;
  /** Polls `probe` until it returns something, within the scenario's hang guard. */
  wait<T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    lastSeen?: () => unknown,
  ): Promise<T>;
  /** The body `url` answers from inside `node` (trimmed: the pod's name), or undefined when it fails. */
  answer(node: ScenarioNode, url: string): Promise<string | undefined>;
}

type ServicePort = NonNullable<NonNullable<ServiceObject['spec']>['ports']>[number];

/** The Service that exists before the stop: its ClusterIP URL, answering from the victim. */
async function* existingServiceBaseline(
  run: ScenarioRun,
): AsyncGenerator<Emit, { service: ServiceObject; port: ServicePort; url: string }> {
  const { api, ns, options, victimName } = run;
  const existing = api.get('v1', 'services', ns, options.service) as ServiceObject | undefined;
  const port = existing?.spec?.ports?.[0];
  if (!existing?.spec?.clusterIP || !port) {
    throw new ScenarioSetupError('service', options.service, `has no ClusterIP and port in namespace ${ns}`);
  }
  const url = `http://${existing.spec.clusterIP}:${port.port}/`;
  const first = await run.wait(`${url} answers from ${victimName}`, () => run.answer(run.victim, url));
  yield run.at({ type: 'baseline', node: victimName, service: options.service, url, answeredBy: [first] });
  return { service: existing, port, url };
}

/** The Service whose only endpoint will move, and the pod behind it. */
interface MovingService {
  url: string;
  oldPod: PodObject;
  oldName: string;
  /** The moving workload's Running pods (with an IP, not being deleted). */
  runningPods(): PodObject[];
}

/** The Service whose only endpoint will move: programmed on every node before the stop. */
async function* movingServiceBaseline(
  run: ScenarioRun,
  port: ServicePort,
): AsyncGenerator<Emit, MovingService> {
  const { api, ns, options } = run;
  const { box } = options;
  const rs = options.movingWorkload as KubeObject & {
    spec?: { selector?: { matchLabels?: Record<string, string> } };
  };
  const movingLabels = rs.spec?.selector?.matchLabels;
  if (!movingLabels || Object.keys(movingLabels).length === 0)
    throw new ScenarioSetupError('movingWorkload', rs.metadata.name, 'has no spec.selector.matchLabels');
  api.create('apps/v1', 'replicasets', ns, rs);
  const moved = api.create('v1', 'services', ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: MOVED_SERVICE_NAME, namespace: ns },
    spec: {
      selector: movingLabels,
      ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: port.protocol }],
    },
  }) as ServiceObject;
  const movedUrl = `http://${moved.spec?.clusterIP}:${port.port}/`;
  const isMoving = (p: KubeObject) =>
    Object.entries(movingLabels).every(([k, v]) => p.metadata.labels?.[k] === v);
  const runningPods = () =>
    (api.list('v1', 'pods', ns) as PodObject[]).filter(
      (p) => isMoving(p) && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status.podIP,
    );
  const oldPod = await run.wait(`one ${MOVED_SERVICE_NAME} pod Running`, () => {
    const pods = runningPods();
    return pods.length === 1 ? pods[0] : undefined;
  });
  const oldName = oldPod.metadata.name ?? '';
  for (const node of box.nodes) {
    await run.wait(`${movedUrl} answers ${oldName} from ${node.name}`, async () =>
      (await run.answer(node, movedUrl)) === oldName ? true : undefined,
    );
  }
  yield run.at({
    type: 'moved-baseline',
    service: MOVED_SERVICE_NAME,
    url: movedUrl,
    pod: oldName,
    podIP: oldPod.status?.podIP ?? '',
    nodes: box.nodes.map((n) => n.name),
  });
  return { url: movedUrl, oldPod, oldName, runningPods };
}

/** The rules already in the kernel keep working. */
async function* existingServiceKeepsWorking(run: ScenarioRun, url: string): AsyncGenerator<Emit> {
  const { victimName } = run;
  const answers: string[] = [];
  for (let i = 0; i < (run.options.requests ?? 4); i++) {
    const body = await run.answer(run.victim, url);
    if (body === undefined)
      yield run.at({ type: 'problem', what: `${url} failed from ${victimName} without kube-proxy` });
    else answers.push(body);
  }
  yield run.at({
    type: 'existing-service-works',
    node: victimName,
    service: run.options.service,
    answeredBy: answers,
  });
}

/**
 * Fetches `url` from the victim failedAttempts times, each of which must fail (an answer is a
 * problem). Returns how many failed and the last error. The attempts (each a new connection) go
 * out together: one that fails waits for the fetcher's timeout, so one after another they took
 * that timeout once per attempt.
 */
async function* fetchesThatMustFail(
  run: ScenarioRun,
  url: string,
): AsyncGenerator<Emit, { attempts: number; failed: number; lastError: string }> {
  const attempts = run.options.failedAttempts ?? 3;
  const outcomes = await Promise.allSettled(Array.from({ length: attempts }, () => run.victim.fetch(url)));
  let lastError = '';
  let failed = 0;
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') {
      yield run.at({
        type: 'problem',
        what: `${url} answered (${outcome.value.trim()}) from ${run.victimName} without kube-proxy`,
      });
    } else {
      failed++;
      lastError = (outcome.reason as Error).message;
    }
  }
  return { attempts, failed, lastError };
}

/** A new Service: every other node's kube-proxy programs it, this node's cannot. Returns its URL. */
async function* newServiceMissingHere(
  run: ScenarioRun,
  existing: { service: ServiceObject; port: ServicePort },
): AsyncGenerator<Emit, string> {
  const { api, ns, others } = run;
  const { port } = existing;
  const created = api.create('v1', 'services', ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NEW_SERVICE_NAME, namespace: ns },
    spec: {
      selector: existing.service.spec?.selector,
      ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: port.protocol }],
    },
  }) as ServiceObject;
  const newUrl = `http://${created.spec?.clusterIP}:${port.port}/`;
  yield run.at({ type: 'service-created', service: NEW_SERVICE_NAME, url: newUrl });
  for (const node of others) {
    await run.wait(`${newUrl} answers from ${node.name}`, () => run.answer(node, newUrl));
  }
  yield run.at({
    type: 'new-service-works-elsewhere',
    service: NEW_SERVICE_NAME,
    nodes: others.map((n) => n.name),
  });
  const { attempts, failed, lastError } = yield* fetchesThatMustFail(run, newUrl);
  if (failed === attempts) {
    yield run.at({
      type: 'new-service-fails-here',
      node: run.victimName,
      service: NEW_SERVICE_NAME,
      attempts,
      error: lastError,
    });
  }
  return newUrl;
}

/**
 * The moved endpoint: the only pod behind scenario-moved goes away, its replacement has a new
 * IP; the other nodes follow, this one keeps the stale IP. Returns the replacement's name.
 */
async function* endpointMovesElsewhere(
  run: ScenarioRun,
  moving: MovingService,
): AsyncGenerator<Emit, string> {
  const { api, ns, others } = run;
  const { oldName, oldPod, url: movedUrl } = moving;
  api.delete('v1', 'pods', ns, oldName);
  const newPod = await run.wait(`a replacement for ${oldName} Running with a new IP`, () =>
    moving.runningPods().find((p) => p.metadata.name !== oldName && p.status?.podIP !== oldPod.status?.podIP),
  );
  const newName = newPod.metadata.name ?? '';
  // The old IP goes away only when the pod does: a graceful delete keeps it serving until its
  // kubelet has stopped its containers and confirmed (the API then drops the pod).
  await run.wait(`${oldName} gone from the API (its kubelet stopped it)`, () =>
    api.get('v1', 'pods', ns, oldName) === undefined ? true : undefined,
  );
  yield run.at({
    type: 'endpoint-moved',
    service: MOVED_SERVICE_NAME,
    from: { pod: oldName, podIP: oldPod.status?.podIP ?? '' },
    to: { pod: newName, podIP: newPod.status?.podIP ?? '', node: newPod.spec?.nodeName ?? '' },
  });
  for (const node of others) {
    await run.wait(`${movedUrl} answers ${newName} from ${node.name}`, async () =>
      (await run.answer(node, movedUrl)) === newName ? true : undefined,
    );
  }
  yield run.at({
    type: 'moved-service-works-elsewhere',
    service: MOVED_SERVICE_NAME,
    pod: newName,
    nodes: others.map((n) => n.name),
  });
  const { attempts, failed, lastError } = yield* fetchesThatMustFail(run, movedUrl);
  if (failed === attempts) {
    yield run.at({
      type: 'moved-service-fails-here',
      node: run.victimName,
      service: MOVED_SERVICE_NAME,
      staleIP: oldPod.status?.podIP ?? '',
      attempts,
      error: lastError,
    });
  }
  return newName;
}

/**
 * kube-proxy comes back: its first sync programs what it missed. The repair counts as done by
 * the first sync when both Services answer to requests sent while kube-proxy's last-sync time
 * was still the first one it reported (read right before them). A later sync finishing during
 * the requests does not count against it: kube-proxy syncs again within its minSyncPeriod
 * (1 s) as EndpointSlice updates arrive, and the first sync already holds every Service.
 */
async function* repairedByFirstSync(
  run: ScenarioRun,
  newUrl: string,
  movedUrl: string,
  newName: string,
): AsyncGenerator<Emit> {
  const { victim, victimName, clock } = run;
  const metricsUrl = run.options.metricsUrl ?? DEFAULT_METRICS_URL;
  const readSync = () =>
    victim.fetch(metricsUrl).then(
      (text) => lastSyncMs(text),
      () => undefined,
    );
  const started = await victim.startKubeProxy();
  const startedAt = clock.now();
  yield run.at({ type: 'kube-proxy-started', node: victimName, pid: started.pid });
  let firstSyncMs: number | undefined;
  const repair = await run.wait(
    `${newUrl} and ${movedUrl} answer from ${victimName} after the restart`,
    async () => {
      checkAgent(victim, 'kube-proxy');
      const before = await readSync();
      if (before === undefined) return undefined;
      firstSyncMs ??= before;
      const a = await run.answer(victim, newUrl);
      const b = await run.answer(victim, movedUrl);
      if (a === undefined || b !== newName) return undefined;
      return { answeredBy: [a, b], byFirstSync: before === firstSyncMs };
    },
    () => `kube-proxy's last sync ${firstSyncMs === undefined ? 'not yet reported' : 'reported'}`,
  );
  const firstSyncSinceRestartMs = (firstSyncMs ?? 0) - startedAt;
  yield run.at({
    type: 'repaired',
    node: victimName,
    services: [NEW_SERVICE_NAME, MOVED_SERVICE_NAME],
    answeredBy: repair.answeredBy,
    sinceRestartMs: clock.now() - startedAt,
    firstSyncSinceRestartMs,
    byFirstSync: repair.byFirstSync,
  });
  if (!repair.byFirstSync) {
    yield run.at({
      type: 'problem',
      what: `${victimName} was repaired only after a later sync than kube-proxy's first (at ${(firstSyncSinceRestartMs / 1000).toFixed(1)} s after the restart)`,
    });
  }
}
