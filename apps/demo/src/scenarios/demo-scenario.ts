import type { ApiServer, KubeObject } from '@nodeagent/testing';
import { netnsFetcher } from '../data-path';
import { DemoError } from '../errors';
import { readWorkload } from '../workload';
import { criScenarioRuntime } from './cri-scenario-runtime';
import { runScenario, type ScenarioName, type ScenarioRun } from './run-scenario';
import {
  realClock,
  registryApi,
  type ScenarioBox,
  type ScenarioClock,
  type ScenarioNode,
} from './scenario-box';
import type { ScenarioOptions } from './scenario-options';
import { SCENARIO_APP, scenarioReplicaSet } from './scenario-workload';
import { waitFor } from './wait-for';

/** What a scenario reads of the running multi-node box (demo.ts's DemoBox has these). */
export interface BoxForScenario {
  readonly server: ApiServer;
  readonly nodes: readonly {
    readonly name: string;
    readonly runtime: {
      readonly kind: string;
      readonly endpoint: string;
      readonly netnsPath?: string;
      readonly image: string;
    };
    readonly agents: {
      readonly kubelet: { readonly pid: number } | undefined;
      readonly kubeProxy: { readonly pid: number } | undefined;
      startKubelet(): Promise<RestartedChild>;
      stopKubelet(): Promise<void>;
      startKubeProxy(): RestartedChild | undefined;
      stopKubeProxy(): Promise<void>;
    };
  }[];
}

/** An agent process as node-agents.ts starts it (RunningChild). */
interface RestartedChild {
  readonly pid: number;
  readonly exited?: Promise<number | null>;
  readonly logFile?: string;
}

export interface DemoScenarioSettings {
  scenario: ScenarioName;
  /** tolerationSeconds of the scenario ReplicaSet's pods for the unreachable/not-ready taints (upstream default 300). */
  tolerationSeconds: number;
  /** The kubelets' nodeLeaseDurationSeconds: they renew every quarter of it. */
  nodeLeaseDurationSeconds: number;
  /** The node lifecycle controller's grace period (for the wait limits). */
  nodeMonitorGracePeriodSeconds: number;
  /** The web pod of the demo's manifests: the scenario ReplicaSet's template. */
  webPod: KubeObject;
  /** The existing Service the kube-proxy scenario reaches. */
  service: string;
  /** Ctrl-C: the scenario stops at its next poll. */
  signal?: AbortSignal;
}

export class ScenarioRefusedError extends DemoError {
  constructor(field: string, value: unknown, message: string) {
    super('SCENARIO_REFUSED', field, value, message);
  }
}

/** The margin on top of grace period + toleration for every wait: pods start slowly on a busy machine. */
const WAIT_MARGIN_MS = 180_000;

/**
 * Runs a scenario on the running box: its nodes as ScenarioNodes (CRI on each containerd, the
 * agents' stop/start, HTTP from each node's namespace), narrating to `write`. Resolves with the
 * events; the caller reports `problems`.
 */
export async function runDemoScenario(
  box: BoxForScenario,
  settings: DemoScenarioSettings,
  write: (text: string) => void,
): Promise<ScenarioRun> {
  if (box.nodes.length < 2) {
    throw new ScenarioRefusedError(
      '--nodes',
      box.nodes.length,
      `the ${settings.scenario} scenario needs --nodes 2 or more`,
    );
  }
  const runtimes: (ScenarioNode['runtime'] & { close(): void })[] = [];
  try {
    const nodes: ScenarioNode[] = [];
    for (const node of box.nodes) {
      const { netnsPath } = node.runtime;
      if (node.runtime.kind !== 'containerd' || !netnsPath) {
        throw new ScenarioRefusedError(
          '--fake-runtime',
          true,
          'the scenarios need containerd (real processes and packets)',
        );
      }
      const runtime = await criScenarioRuntime(node.runtime.endpoint);
      runtimes.push(runtime);
      const wget = netnsFetcher(netnsPath);
      // A failed wget's message is the whole command line: say what happened instead.
      const fetch = (url: string) =>
        wget(url).catch((error: Error) => {
          const line = error.message.split('\n')[0] ?? '';
          throw new Error(line.startsWith('Command failed') ? 'no answer' : line);
        });
      const agents = node.agents;
      // What the scenario restarted, to tell a crashed restart from a slow one.
      const restarted: Partial<Record<'kubelet' | 'kube-proxy', { exited?: string }>> = {};
      const watch = (agent: 'kubelet' | 'kube-proxy', child: RestartedChild) => {
        const state: { exited?: string } = {};
        restarted[agent] = state;
        child.exited?.then((code) => {
          state.exited = `exited with code ${code}${child.logFile ? ` (log: ${child.logFile})` : ''}`;
        });
        return child;
      };
      nodes.push({
        name: node.name,
        runtime,
        async stopKubelet() {
          const pid = agents.kubelet?.pid ?? -1;
          await agents.stopKubelet();
          return { pid };
        },
        startKubelet: async () => watch('kubelet', await agents.startKubelet()),
        async stopKubeProxy() {
          const pid = agents.kubeProxy?.pid ?? -1;
          await agents.stopKubeProxy();
          return { pid };
        },
        async startKubeProxy() {
          const child = agents.startKubeProxy();
          if (!child)
            throw new ScenarioRefusedError('node', node.name, 'has no network namespace for kube-proxy');
          return watch('kube-proxy', child);
        },
        agentExited: (agent) => restarted[agent]?.exited,
        fetch,
      });
    }
    const clock = abortableClock(settings.signal);
    const scenarioBox: ScenarioBox = { api: registryApi(box.server), nodes, namespace: 'default' };
    const waitTimeoutMs =
      (settings.nodeMonitorGracePeriodSeconds + settings.tolerationSeconds) * 1000 + WAIT_MARGIN_MS;
    write(`\nScenario ${settings.scenario} (times since the stop):\n`);
    if (settings.scenario === 'kube-proxy-missing') {
      return await runScenario(
        {
          scenario: 'kube-proxy-missing',
          box: scenarioBox,
          service: settings.service,
          movingWorkload: movingReplicaSet(settings.webPod),
          waitTimeoutMs,
          clock,
        },
        write,
      );
    }
    // The workload the kubelet-missing scenario watches: a ReplicaSet, one pod per node (the box's
    // own `web` pods run too; a busy machine starts containers slowly).
    const api = scenarioBox.api;
    api.create(
      'apps/v1',
      'replicasets',
      'default',
      scenarioReplicaSet(settings.webPod, nodes.length, settings.tolerationSeconds),
    );
    write(
      `  ReplicaSet ${SCENARIO_APP}: ${nodes.length} pods, tolerating unreachable for ${settings.tolerationSeconds} s\n`,
    );
    await waitFor(clock, `ReplicaSet ${SCENARIO_APP} Running`, WAIT_MARGIN_MS, 500, () => {
      const pods = api.list('v1', 'pods', 'default').filter((p) => p.metadata.labels?.app === SCENARIO_APP);
      return pods.length === nodes.length &&
        pods.every((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running')
        ? true
        : undefined;
    });
    return await runScenario(
      {
        scenario: 'kubelet-missing',
        box: scenarioBox,
        workloadSelector: { key: 'app', value: SCENARIO_APP },
        leaseRenewIntervalMs: settings.nodeLeaseDurationSeconds * 250,
        waitTimeoutMs,
        clock,
      },
      write,
    );
  } finally {
    for (const r of runtimes) r.close();
  }
}

/**
 * The kube-proxy scenario's moving endpoint: one copy of the web pod under labels of its own, so
 * the `scenario-moved` Service selects exactly this pod (not the box's `web` pods).
 */
function movingReplicaSet(webPod: KubeObject): KubeObject {
  // 300 s: upstream's default toleration; no node loses its kubelet in this scenario.
  const rs = scenarioReplicaSet(webPod, 1, 300) as KubeObject & {
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: { metadata: KubeObject['metadata'] };
    };
  };
  const labels = { app: MOVING_APP };
  rs.metadata = { ...rs.metadata, name: MOVING_APP, labels };
  rs.spec.selector = { matchLabels: labels };
  rs.spec.template.metadata = { labels };
  return rs;
}

const MOVING_APP = 'scenario-moved';

/** Wall-clock time whose waits end with ScenarioAbortedError once `signal` aborts (Ctrl-C). */
function abortableClock(signal: AbortSignal | undefined): ScenarioClock {
  return {
    now: realClock.now,
    async sleep(ms) {
      if (signal?.aborted) throw new ScenarioAbortedError();
      await realClock.sleep(ms);
      if (signal?.aborted) throw new ScenarioAbortedError();
    },
  };
}

export class ScenarioAbortedError extends DemoError {
  constructor() {
    super('ABORTED', 'signal', 'SIGINT', 'scenario interrupted');
  }
}

/** The scenario ended with effects that did not happen as upstream's behaviour says. */
export class ScenarioFailedError extends DemoError {
  constructor(scenario: string, problems: string[]) {
    super(
      'SCENARIO_FAILED',
      '--scenario',
      scenario,
      `${problems.length} effect(s) not as expected: ${problems.join('; ')}`,
    );
  }
}

/** The box's web pod from the demo's manifests (local image), as the scenario ReplicaSet's template. */
export function webPodFor(image: string, nodeName: string): KubeObject {
  const pod = readWorkload({ nodeName, image, fakeRuntime: false }).find((o) => o.kind === 'Pod');
  if (!pod) throw new DemoError('INVALID_MANIFEST', 'kind', 'Pod', 'the workload has no Pod');
  return pod;
}

/**
 * RunDemoDeps.scenario for `--scenario`: runs it on the box once the box is up, hands the run to
 * `record` (main.ts prints it with --json) and throws ScenarioFailedError if an effect failed.
 */
export function scenarioHook(
  options: ScenarioOptions,
  service: string,
  record: (run: ScenarioRun) => void,
): (box: BoxForScenario, io: { write(text: string): void }, signal: AbortSignal) => Promise<void> {
  return async (box, io, signal) => {
    const scenario = options.scenario;
    if (!scenario) return;
    const first = box.nodes[0];
    if (!first) throw new ScenarioRefusedError('--nodes', 0, 'the box has no node');
    const run = await runDemoScenario(
      box,
      {
        scenario,
        tolerationSeconds: options.tolerationSeconds,
        nodeLeaseDurationSeconds: options.nodeLeaseDurationSeconds,
        nodeMonitorGracePeriodSeconds: options.nodeMonitorGracePeriodSeconds,
        webPod: webPodFor(first.runtime.image, first.name),
        service,
        signal,
      },
      (text) => io.write(text),
    );
    record(run);
    if (run.problems.length > 0) throw new ScenarioFailedError(scenario, run.problems);
  };
}
