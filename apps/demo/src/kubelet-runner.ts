/**
 * The demo's kubelet process: the @nodeagent/kubelet engine wired to the API server, a CRI runtime
 * and @nodeagent/probes (readiness). It exists because the nodeagent-kubelet binary has no run mode
 * yet; the demo prefers that binary as soon as it has one (see kubelet-command.ts).
 *
 * Runs as a child process inside the node's network namespace (pod IPs are reachable there, so
 * httpGet probes work). Logs JSON lines to stdout.
 */
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createCriClient } from '@nodeagent/cri-client';
import {
  ApiPodSource,
  apiObjectSource,
  apiPodStatusWriter,
  criPodRuntime,
  findContainer,
  Kubelet,
  type Pod,
  parseKubeletConfiguration,
} from '@nodeagent/kubelet';
import { NodeStatusReporter } from '@nodeagent/node-status';
import { ProbeManager } from '@nodeagent/probes';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'hostname-override': { type: 'string' },
    'container-runtime-endpoint': { type: 'string' },
    'root-dir': { type: 'string' },
    'node-ip': { type: 'string' },
  },
});

function log(level: 'info' | 'warn' | 'error', obj: object, msg = ''): void {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), ...obj, msg })}\n`);
}
const logger = {
  info: (o: object, m?: string) => log('info', o, m),
  warn: (o: object, m?: string) => log('warn', o, m),
  error: (o: object, m?: string) => log('error', o, m),
};

function required(name: keyof typeof values): string {
  const value = values[name];
  if (!value) {
    log('error', { flag: name }, `--${name} is required`);
    process.exit(2);
  }
  return value;
}

const nodeName = required('hostname-override');
const rootDir = required('root-dir');
const nodeIP = required('node-ip');
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(required('kubeconfig'));
const core = kubeConfig.makeApiClient(CoreV1Api);
const cri = await createCriClient({ endpoint: required('container-runtime-endpoint') });
const runtime = criPodRuntime(cri);

// Only httpGet/tcpSocket readiness is needed by the demo workload: the probe manager's exec
// executor has no container argument, so exec probes are left unwired (they report Unknown).
const probes = new ProbeManager({
  onError: (err) => log('warn', { err: String(err) }, 'probe error'),
});

const { config } = parseKubeletConfiguration({
  podLogsDir: `${rootDir}/logs`,
  syncFrequency: '10s',
});
const kubelet = new Kubelet({
  nodeName,
  runtime,
  config,
  rootDir,
  hostIPs: [nodeIP],
  memoryCapacity: 2 * 1024 ** 3,
  objects: apiObjectSource(core),
  statusWriter: apiPodStatusWriter(core),
  readiness: (containerId, container) =>
    container.readinessProbe === undefined || probes.readiness.get(containerId) === 'Success',
  relistPeriodMs: 1000,
  retryMs: 2000,
  logger,
});

/** Probed containers by pod UID: started once the pod has an IP, stopped when it leaves. */
const probed = new Map<string, Set<string>>();

function startProbes(pod: Pod): void {
  const uid = pod.metadata.uid ?? '';
  const podIP = kubelet.getPodStatus(uid)?.podIP;
  if (!podIP) return;
  const names = probed.get(uid) ?? new Set<string>();
  probed.set(uid, names);
  for (const container of pod.spec.containers) {
    if (names.has(container.name) || !container.readinessProbe) continue;
    names.add(container.name);
    probes.addContainer(uid, podIP, container as never, () => {
      const status = kubelet.runtimeStatus(uid);
      const current = status ? findContainer(status, container.name) : undefined;
      if (!current) return undefined;
      return {
        containerId: current.id,
        running: current.state === 'running',
        startedAt: current.startedAt ?? current.createdAt,
      };
    });
  }
}

function stopProbes(pod: Pod): void {
  const uid = pod.metadata.uid ?? '';
  for (const name of probed.get(uid) ?? []) probes.removeContainer(uid, name);
  probed.delete(uid);
}

// A readiness change must reach the API: resync the pod so its status is regenerated.
probes.readiness.subscribe((update) => {
  log(
    'info',
    { pod: update.podUID, container: update.containerId, result: update.result },
    'readiness changed',
  );
  const pod = kubelet.getPods().find((p) => p.metadata.uid === update.podUID);
  if (pod) kubelet.updatePod(pod);
});

const source = new ApiPodSource(
  kubeConfig,
  nodeName,
  {
    add: (pod) => kubelet.addPod(pod),
    update: (pod) => kubelet.updatePod(pod),
    remove: (pod) => {
      stopProbes(pod);
      kubelet.removePod(pod);
    },
  },
  (err) => log('warn', { err: String(err) }, 'pod informer error'),
);

const reporter = new NodeStatusReporter({
  kubeConfig,
  config: { nodeName, nodeIPs: [nodeIP], rootDir, nodeStatusUpdateFrequency: '5s' },
  runtimeVersion: async () => {
    const v = await cri.version({});
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
  },
  readyChecks: [
    {
      name: 'runtime',
      check: () =>
        cri.version({}).then(
          () => undefined,
          (err: unknown) => `container runtime is down: ${String(err)}`,
        ),
    },
    { name: 'pleg', check: () => (kubelet.healthz().ok ? undefined : 'PLEG is not healthy') },
  ],
  onError: (err, during) => log('warn', { err: String(err), during }, 'node status error'),
});
await reporter.start();
log('info', { node: nodeName }, 'node registered');
await kubelet.start();
await source.start();
log('info', { node: nodeName }, 'kubelet started');

const probeTimer = setInterval(() => {
  for (const pod of kubelet.getPods()) if (!pod.metadata.deletionTimestamp) startProbes(pod);
}, 500);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('info', { signal }, 'kubelet stopping');
  clearInterval(probeTimer);
  await reporter.stop().catch(() => undefined);
  await source.stop().catch(() => undefined);
  await probes.close().catch(() => undefined);
  await kubelet.stop().catch(() => undefined);
  cri.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
