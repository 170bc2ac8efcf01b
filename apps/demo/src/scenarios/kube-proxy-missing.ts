import type { KubeObject } from '@nodeagent/testing';
import { ScenarioSetupError } from './kubelet-missing';
import { realClock, type ScenarioBox, type ScenarioClock } from './scenario-box';
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

/**
 * Stops kube-proxy on one node: what is already in its kernel keeps working, a Service created
 * afterwards is reachable from every other node but not from this one, and a restarted kube-proxy
 * repairs the node in its first sync.
 */
export async function* kubeProxyMissing(options: KubeProxyMissingOptions): AsyncGenerator<Emit> {
  const { box } = options;
  const clock = options.clock ?? realClock;
  const pollMs = options.pollMs ?? 500;
  const api = box.api;
  const ns = box.namespace;
  if (box.nodes.length < 2)
    throw new ScenarioSetupError('nodes', box.nodes.length, 'the scenario needs 2 nodes or more');
  const victimName = options.node ?? box.nodes.at(-1)?.name ?? '';
  const victim = box.nodes.find((n) => n.name === victimName);
  if (!victim) throw new ScenarioSetupError('node', victimName, 'is not a node of the box');
  const others = box.nodes.filter((n) => n !== victim);
  let stoppedAt = clock.now();
  const at = (event: Untimed<Emit>): Emit => ({ ...event, atMs: clock.now() - stoppedAt }) as Emit;
  const wait = <T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    lastSeen?: () => unknown,
  ) => waitFor(clock, what, options.waitTimeoutMs, pollMs, probe, lastSeen);
  const answer = (node: typeof victim, url: string) =>
    node.fetch(url).then(
      (body) => body.trim(),
      () => undefined,
    );
  const requests = options.requests ?? 4;

  const existing = api.get('v1', 'services', ns, options.service) as ServiceObject | undefined;
  const port = existing?.spec?.ports?.[0];
  if (!existing?.spec?.clusterIP || !port) {
    throw new ScenarioSetupError('service', options.service, `has no ClusterIP and port in namespace ${ns}`);
  }
  const url = `http://${existing.spec.clusterIP}:${port.port}/`;
  const first = await wait(`${url} answers from ${victimName}`, () => answer(victim, url));
  yield at({ type: 'baseline', node: victimName, service: options.service, url, answeredBy: [first] });

  stoppedAt = clock.now();
  const { pid } = await victim.stopKubeProxy();
  yield at({ type: 'kube-proxy-stopped', node: victimName, pid });

  // The rules already in the kernel keep working.
  const answers: string[] = [];
  for (let i = 0; i < requests; i++) {
    const body = await answer(victim, url);
    if (body === undefined)
      yield at({ type: 'problem', what: `${url} failed from ${victimName} without kube-proxy` });
    else answers.push(body);
  }
  yield at({
    type: 'existing-service-works',
    node: victimName,
    service: options.service,
    answeredBy: answers,
  });

  // A new Service: every other node's kube-proxy programs it, this node's cannot.
  const created = api.create('v1', 'services', ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NEW_SERVICE_NAME, namespace: ns },
    spec: {
      selector: existing.spec.selector,
      ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: port.protocol }],
    },
  }) as ServiceObject;
  const newUrl = `http://${created.spec?.clusterIP}:${port.port}/`;
  yield at({ type: 'service-created', service: NEW_SERVICE_NAME, url: newUrl });
  for (const node of others) {
    await wait(`${newUrl} answers from ${node.name}`, () => answer(node, newUrl));
  }
  yield at({
    type: 'new-service-works-elsewhere',
    service: NEW_SERVICE_NAME,
    nodes: others.map((n) => n.name),
  });
  const attempts = options.failedAttempts ?? 3;
  let lastError = '';
  let failed = 0;
  for (let i = 0; i < attempts; i++) {
    try {
      const body = await victim.fetch(newUrl);
      yield at({
        type: 'problem',
        what: `${newUrl} answered (${body.trim()}) from ${victimName} without kube-proxy`,
      });
    } catch (error) {
      failed++;
      lastError = (error as Error).message;
    }
  }
  if (failed === attempts) {
    yield at({
      type: 'new-service-fails-here',
      node: victimName,
      service: NEW_SERVICE_NAME,
      attempts,
      error: lastError,
    });
  }

  // kube-proxy comes back: its first sync programs what it missed.
  const started = await victim.startKubeProxy();
  const startedAt = clock.now();
  yield at({ type: 'kube-proxy-started', node: victimName, pid: started.pid });
  const repairedBy = await wait(`${newUrl} answers from ${victimName} after the restart`, () => {
    checkAgent(victim, 'kube-proxy');
    return answer(victim, newUrl);
  });
  yield at({
    type: 'repaired',
    node: victimName,
    service: NEW_SERVICE_NAME,
    answeredBy: repairedBy,
    sinceRestartMs: clock.now() - startedAt,
  });
}
