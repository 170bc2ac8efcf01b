import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Duplex, PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type ApiServer, deleteNetns, startApiServer } from '@nodeagent/testing';
import { type RunningChild, startChild } from './child-process';
import { type ClusterView, clusterView, readyEndpointPods, renderClusterView } from './cluster-view';
import { type Answer, everyPodAnswered, fetchRepeatedly, netnsFetcher, tallyAnswers } from './data-path';
import type { DemoOptions } from './demo-options';
import { ChildExitedError, DemoError, PrerequisiteError, StepTimeoutError } from './errors';
import { demoKubeletConfiguration, renderKubeletConfiguration } from './kubelet-config';
import {
  type NodeRuntime,
  startContainerdRuntime,
  startFakeRuntime,
  stopStaleContainerd,
} from './node-runtime';
import { missingPrerequisites, type PrerequisiteInputs, systemPrerequisiteInputs } from './prerequisites';
import { acquireRunLock, defaultLockPath, type RunRecord } from './run-lock';
import { type SocketRelay, startSocketRelay } from './socket-relay';
import { createStepReporter } from './step-reporter';
import { applyWorkload, readWorkload } from './workload';

export const NODE_NAME = 'nodeagent-demo-node';
export const SERVICE_NAME = 'web';
/** The kubelet's server port (upstream's default, which the demo's KubeletConfiguration keeps). */
const KUBELET_PORT = 10250;

export interface DemoIO {
  write(text: string): void;
  tty: boolean;
}

export interface DemoResult {
  ok: boolean;
  runtime: 'containerd' | 'fake';
  proxyMode: string;
  /** Pods the EndpointSlice listed as ready for the ClusterIP Service. */
  expectedPods: string[];
  answers: Answer[];
  /** Requests to the NodePort Service on the node IP (containerd runtime only). */
  nodePortAnswers: Answer[];
  tally: Record<string, number>;
  /** Whether the packet test ran (not with the fake runtime). */
  dataPathChecked: boolean;
  problems: string[];
  /** Things the show did without (not failures), e.g. kube-proxy without root. */
  notes: string[];
  /** Things still present after teardown (should be empty). */
  leftovers: string[];
  stateDir: string;
  kubeconfig: string;
  /** The node's network namespace name (for leak checks). */
  netns?: string;
  /** containerd's temp dir (for leak checks). */
  runtimeDir?: string;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const demoSrc = fileURLToPath(new URL('./', import.meta.url));

/** A TypeScript entry point run by node with tsx and the workspace source condition. */
function tsEntry(script: string, args: string[]): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: ['--conditions=@nodeagent/source', '--import', 'tsx', script, ...args],
  };
}

class AbortedError extends DemoError {
  constructor() {
    super('ABORTED', 'signal', 'SIGINT', 'interrupted');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RunDemoDeps {
  prerequisites?: PrerequisiteInputs;
  lockPath?: string;
}

/**
 * The whole show: API server, node runtime, kubelet, kube-proxy, workload, status, data path;
 * then (unless --once) live status until `signal` aborts; always a full teardown.
 */
export async function runDemo(
  options: DemoOptions,
  io: DemoIO,
  signal: AbortSignal,
  deps: RunDemoDeps = {},
): Promise<DemoResult> {
  const prereq = deps.prerequisites ?? systemPrerequisiteInputs();
  if (!options.fakeRuntime) {
    const missing = missingPrerequisites(prereq, options.proxyMode);
    if (missing.length > 0) throw new PrerequisiteError(missing);
  }
  const lock = acquireRunLock(deps.lockPath ?? defaultLockPath);
  const steps = createStepReporter({ write: io.write, tty: io.tty });
  const stateDir = await mkdtemp(join(tmpdir(), `nodeagent-demo-${process.pid}-`));
  const logsDir = join(stateDir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const kubeconfig = join(stateDir, 'kubeconfig');
  const result: DemoResult = {
    ok: false,
    runtime: options.fakeRuntime ? 'fake' : 'containerd',
    proxyMode: options.proxyMode,
    expectedPods: [],
    answers: [],
    nodePortAnswers: [],
    tally: {},
    dataPathChecked: false,
    problems: [],
    notes: [],
    leftovers: [],
    stateDir,
    kubeconfig,
  };
  const teardown: { title: string; run: () => Promise<void> }[] = [];
  const children: RunningChild[] = [];
  let runtime: NodeRuntime | undefined;
  const checkAbort = () => {
    if (signal.aborted) throw new AbortedError();
  };
  /** Polls `probe` until it returns something, a child dies, the timeout passes or Ctrl-C. */
  const waitFor = async <T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
    /** What to report on timeout: the state last seen. */
    lastSeen: () => unknown = () => undefined,
  ) => {
    const deadline = Date.now() + timeoutMs;
    const failures = Promise.race(children.map((c) => c.failure));
    for (;;) {
      checkAbort();
      const value = await Promise.race([Promise.resolve(probe()), failures]);
      if (value !== undefined) return value as T;
      if (Date.now() > deadline) throw new StepTimeoutError(what, lastSeen());
      await Promise.race([sleep(250), failures]);
    }
  };

  io.write(`\nnodeagent node in a box (${result.runtime} runtime, kube-proxy ${options.proxyMode} mode)\n\n`);
  try {
    const previous = lock.previous;
    if (previous?.stateDir) {
      await steps.run(`clean up after an earlier run that did not finish (pid ${previous.pid})`, () =>
        cleanUpStaleRun(previous),
      );
    }
    // The API server reaches the kubelet's server (kubectl logs, exec, port-forward) through a
    // relay in the node namespace, set up with the namespace below: the node IP exists only in
    // there, and a connect() from the host would go out through the host's default route.
    let kubeletSocket: string | undefined;
    const dialKubelet = (): Duplex => {
      if (kubeletSocket) return connect(kubeletSocket);
      const refused = new PassThrough();
      process.nextTick(() =>
        refused.destroy(
          new Error('the demo node runs without a network namespace and its kubelet without a server'),
        ),
      );
      return refused;
    };
    // 1. API server with the EndpointSlice controller, reachable from the node namespace.
    const server: ApiServer = await steps.run(
      'API server (in-process, HTTPS, EndpointSlice controller, CSR approver and signer)',
      async () =>
        startApiServer({ endpointSliceController: true, tls: true, kubelet: { dial: dialKubelet } }),
      (s) => s.url,
    );
    teardown.push({ title: 'API server', run: () => server.close() });
    server.writeKubeconfig(kubeconfig);
    // The kubelet joins as kubeadm's nodes do: with a bootstrap token it sends a CSR, which the
    // API server's approver and signer turn into its client certificate (TLS bootstrapping).
    const bootstrapKubeconfig = join(stateDir, 'bootstrap-kubelet.conf');
    server.writeBootstrapKubeconfig(bootstrapKubeconfig, server.createBootstrapToken());
    checkAbort();

    // 2. The node: containerd in its own network namespace, or the fake CRI runtime.
    runtime = await steps.run(
      options.fakeRuntime ? 'fake CRI runtime' : 'containerd in the node network namespace (local images)',
      () => (options.fakeRuntime ? startFakeRuntime(prereq.uid === 0, stateDir) : startContainerdRuntime()),
      (r) => (r.netnsName ? `netns ${r.netnsName}, pod subnet ${r.podSubnet}` : `pod subnet ${r.podSubnet}`),
    );
    const node = runtime;
    result.netns = node.netnsName;
    result.runtimeDir = node.logFile ? dirname(node.logFile) : undefined;
    lock.record({ stateDir, runtimeDir: result.runtimeDir, netns: node.netnsName });
    teardown.push({
      title: node.kind === 'fake' ? 'fake runtime' : 'containerd (containers, namespace, mounts)',
      run: () => node.stop(),
    });
    checkAbort();

    // The API server listens on host loopback; inside the namespace, a relay on the same port
    // forwards over a unix socket, so one kubeconfig serves kubectl and the agents.
    if (node.netnsPath) {
      const apiSocket = join(stateDir, 'api.sock');
      const hostRelay: SocketRelay = await startSocketRelay(
        { path: apiSocket },
        { host: '127.0.0.1', port: server.port },
      );
      teardown.push({ title: 'API relay', run: () => hostRelay.close() });
      const entry = tsEntry(join(demoSrc, 'netns-relay.ts'), [
        '--port',
        String(server.port),
        '--unix',
        apiSocket,
      ]);
      const relay = startChild({
        name: 'api-relay',
        ...entry,
        cwd: repoRoot,
        logFile: join(logsDir, 'api-relay.log'),
        netnsPath: node.netnsPath,
      });
      children.push(relay);
      teardown.push({ title: 'API relay in the node namespace', run: () => relay.stop() });
      // And the other way: a unix socket the API server dials, relayed to the kubelet's port.
      const kubeletRelaySocket = join(stateDir, 'kubelet.sock');
      const kubeletRelay = startChild({
        name: 'kubelet-relay',
        ...tsEntry(join(demoSrc, 'netns-relay.ts'), [
          '--port',
          String(KUBELET_PORT),
          '--unix',
          kubeletRelaySocket,
          '--to-host',
          node.nodeIP,
        ]),
        cwd: repoRoot,
        logFile: join(logsDir, 'kubelet-relay.log'),
        netnsPath: node.netnsPath,
      });
      children.push(kubeletRelay);
      teardown.push({ title: 'kubelet relay in the node namespace', run: () => kubeletRelay.stop() });
      kubeletSocket = kubeletRelaySocket;
    }

    // 3+4. The kubelet (registers this node) and kube-proxy (in the same namespace, never the
    // host's netfilter) start together: each takes a few seconds to load.
    const kubeletFlags = [
      '--bootstrap-kubeconfig',
      bootstrapKubeconfig,
      '--kubeconfig',
      join(stateDir, 'kubelet.conf'),
      '--cert-dir',
      join(stateDir, 'kubelet', 'pki'),
      '--rotate-certificates=true',
      '--hostname-override',
      NODE_NAME,
      '--container-runtime-endpoint',
      node.endpoint,
      '--root-dir',
      join(stateDir, 'kubelet'),
      '--node-ip',
      node.nodeIP,
    ];
    const kubeletConfig = demoKubeletConfiguration({
      podLogsDir: join(stateDir, 'pod-logs'),
      ownNetns: Boolean(node.netnsPath),
    });
    await writeFile(join(stateDir, 'kubelet-config.yaml'), renderKubeletConfiguration(kubeletConfig));
    kubeletFlags.push('--config', join(stateDir, 'kubelet-config.yaml'));
    // nodeagent-kubelet, run from its sources (the workspace's source condition, no build).
    const kubeletEntry = tsEntry(join(repoRoot, 'apps/kubelet/src/cli.ts'), [...kubeletFlags, '--v', '2']);
    const kubelet = startChild({
      name: 'kubelet',
      ...kubeletEntry,
      cwd: repoRoot,
      logFile: join(logsDir, 'kubelet.log'),
      netnsPath: node.netnsPath,
    });
    children.push(kubelet);
    teardown.push({ title: 'kubelet', run: () => kubelet.stop() });
    let proxyChild: RunningChild | undefined;
    if (node.netnsPath) {
      const proxyEntry = tsEntry(join(repoRoot, 'apps/kube-proxy/src/cli.ts'), [
        '--kubeconfig',
        kubeconfig,
        '--hostname-override',
        NODE_NAME,
        '--proxy-mode',
        options.proxyMode,
        '--cluster-cidr',
        node.podSubnet,
        '--v',
        '2',
      ]);
      const proxy = startChild({
        name: 'kube-proxy',
        ...proxyEntry,
        cwd: repoRoot,
        logFile: join(logsDir, 'kube-proxy.log'),
        netnsPath: node.netnsPath,
      });
      children.push(proxy);
      proxyChild = proxy;
      teardown.push({ title: 'kube-proxy', run: () => proxy.stop() });
    }
    await steps.run(
      `nodeagent-kubelet (pid ${kubelet.pid}) registers node ${NODE_NAME}`,
      () =>
        waitFor(
          'node Ready',
          () =>
            clusterView(server).nodes.find((n) => n.name === NODE_NAME)?.ready === 'True' ? true : undefined,
          60_000,
        ),
      () => 'Ready',
    );

    if (proxyChild && node.netnsPath) {
      const proxy = proxyChild;
      const healthz = netnsFetcher(node.netnsPath, 1);
      await steps.run(`kube-proxy (pid ${proxy.pid}, ${options.proxyMode} mode) healthy`, () =>
        waitFor(
          'kube-proxy /healthz',
          () =>
            healthz('http://127.0.0.1:10256/healthz').then(
              () => true,
              () => undefined,
            ),
          60_000,
        ),
      );
    } else {
      result.notes.push('kube-proxy not started: it needs root for its network namespace');
      steps.note('kube-proxy skipped: needs root (its rules go into a network namespace)');
    }

    // 5. The sample workload.
    const objects = readWorkload({
      nodeName: NODE_NAME,
      image: node.image,
      fakeRuntime: node.kind === 'fake',
    });
    const applied = await steps.run(
      'apply the sample workload (manifests/web.yaml)',
      async () => applyWorkload(server, objects),
      (names) => names.join(', '),
    );
    if (node.kind === 'fake') {
      steps.note('fake runtime: containers run a sleep instead of httpd and have no readiness probes');
    }
    const podCount = applied.filter((n) => n.startsWith('pod/')).length;
    const view = await steps.run(
      'pods Running and Ready, endpoints published',
      () =>
        waitFor(
          'pods ready',
          () => {
            const v = clusterView(server);
            const readyPods = v.pods.filter((p) => p.ready).length;
            return readyPods === podCount && readyEndpointPods(v, SERVICE_NAME).length === podCount
              ? v
              : undefined;
          },
          options.readyTimeoutSeconds * 1000,
          () =>
            clusterView(server)
              .pods.map((p) => `${p.name} ${p.phase} ${p.ready ? 'ready' : 'not ready'}`)
              .join(', '),
        ),
      (v: ClusterView) => v.pods.map((p) => `${p.name} ${p.podIP}`).join(', '),
    );
    result.expectedPods = readyEndpointPods(view, SERVICE_NAME);
    io.write(`\n${renderClusterView(view)}\n`);

    // 6. The data path: ClusterIP → kube-proxy rules → a pod, from inside the node namespace.
    const service = view.services.find((s) => s.name === SERVICE_NAME);
    if (node.kind === 'containerd' && node.netnsPath && service) {
      const url = `http://${service.clusterIP}:80/`;
      const fetch = netnsFetcher(node.netnsPath);
      // kube-proxy programs endpoints asynchronously (min sync period): wait, visibly, until
      // the rules reach every ready pod before the counted requests.
      await steps.run(
        `kube-proxy routes ${service.clusterIP}:80 to every ready pod`,
        async () => {
          const seen = new Set<string>();
          let sent = 0;
          await waitFor(
            `answers from ${result.expectedPods.join(', ')} through the ClusterIP`,
            async () => {
              sent++;
              const body = await fetch(url).catch(() => undefined);
              if (body) seen.add(body.trim());
              return result.expectedPods.every((p) => seen.has(p)) ? true : undefined;
            },
            30_000,
          );
          return sent;
        },
        (sent) => `${sent} warm-up request${sent === 1 ? '' : 's'}`,
      );
      result.answers = await fetchRepeatedly(fetch, url, options.requests, result.expectedPods);
      result.dataPathChecked = true;
      io.write(`\nFetching ${url} from the node namespace:\n`);
      for (const a of result.answers) {
        io.write(`  request ${String(a.attempt).padStart(2)} → ${a.answeredBy ?? `failed: ${a.error}`}\n`);
      }
      result.tally = tallyAnswers(result.answers);
      const summary = Object.entries(result.tally)
        .map(([pod, n]) => `${pod || 'failed'}: ${n}`)
        .join(', ');
      if (everyPodAnswered(result.answers, result.expectedPods)) {
        io.write(`  ✔ every pod answered through the ClusterIP (${summary})\n`);
      } else {
        result.problems.push(`data path: not every pod answered (${summary})`);
        io.write(`  ✘ not every pod answered through the ClusterIP (${summary})\n`);
      }

      // The NodePort Service on the node's own address (kube-proxy's nodeports rules).
      const nodePort = view.services.find((s) => s.type === 'NodePort')?.nodePorts[0];
      if (nodePort) {
        const nodeUrl = `http://${node.nodeIP}:${nodePort}/`;
        result.nodePortAnswers = await fetchRepeatedly(fetch, nodeUrl, 4, result.expectedPods, 12);
        const line = result.nodePortAnswers.map((a) => a.answeredBy ?? 'failed').join(', ');
        if (everyPodAnswered(result.nodePortAnswers, result.expectedPods)) {
          io.write(`  ✔ NodePort ${nodeUrl} answered by: ${line}\n`);
        } else {
          result.problems.push(`NodePort ${nodeUrl}: not every pod answered (${line})`);
          io.write(`  ✘ NodePort ${nodeUrl} answered by: ${line}\n`);
        }
      }
    } else {
      io.write('\nNo packet test with the fake runtime: its pods have no network.\n');
    }
    result.ok = result.problems.length === 0;

    io.write(
      [
        '',
        'Talk to it:',
        `  kubectl --kubeconfig ${kubeconfig} get nodes,pods,svc,endpointslices`,
        `Logs: ${children.map((c) => c.logFile).join(', ')}${node.logFile ? `, containerd: ${node.logFile}` : ''}${options.keepLogs ? '' : ' (removed at teardown unless the run failed; --keep-logs keeps them)'}`,
        '',
      ].join('\n'),
    );

    // 7. Live status until Ctrl-C.
    if (!options.once) {
      io.write('Live status (Ctrl-C tears everything down):\n\n');
      let previous = '';
      let lines = 0;
      while (!signal.aborted) {
        const text = renderClusterView(clusterView(server));
        if (text !== previous) {
          if (io.tty && lines > 0) io.write(`\x1b[${lines}A\x1b[0J`);
          io.write(text);
          lines = text.split('\n').length - 1;
          previous = text;
        }
        const dead = await Promise.race([
          sleep(1000).then(() => undefined),
          ...children.map((c) => c.failure),
        ]).catch((error: Error) => error);
        if (dead) {
          result.problems.push(dead.message);
          result.ok = false;
          io.write(`\n✘ ${dead.message}\n`);
          break;
        }
      }
    }
  } catch (error) {
    result.ok = false;
    if (!(error instanceof AbortedError)) result.problems.push((error as Error).message);
    if (error instanceof ChildExitedError) {
      io.write(`\nLast lines of ${error.field}'s log (${error.logFile}):\n${tail(error.logFile)}\n`);
    }
  } finally {
    steps.close();
    io.write('\nTearing down:\n');
    for (const step of teardown.reverse()) {
      await steps.run(`stop ${step.title}`, step.run).catch(() => undefined);
    }
    result.leftovers = await leftovers(runtime, children, stateDir);
    // A failed run keeps its logs: they are what explains the failure (not an interrupted one).
    const keep = options.keepLogs || (!result.ok && !signal.aborted);
    if (!keep) await rm(stateDir, { recursive: true, force: true });
    lock.release();
    if (result.leftovers.length > 0) {
      result.ok = false;
      io.write(`  ✘ left behind: ${result.leftovers.join('; ')}\n`);
    } else {
      io.write(`  ✔ nothing left behind${keep ? ` (logs kept in ${stateDir})` : ''}\n`);
    }
  }
  return result;
}

/** Leftovers of a run killed without teardown: agents (if any survived), containerd, its files. */
async function cleanUpStaleRun(previous: RunRecord): Promise<void> {
  for (const dir of [previous.stateDir, previous.runtimeDir]) {
    if (!dir) continue;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
  }
  if (previous.runtimeDir && existsSync(join(previous.runtimeDir, 'instance.json'))) {
    await stopStaleContainerd(previous.runtimeDir);
  }
  // Only a namespace this demo names (the dead run's PID in it), never anyone else's.
  const netns = previous.netns;
  if (netns && /^na-(ctrd|demo)-\d+-/.test(netns) && netns.includes(`-${previous.pid}-`)) {
    if (existsSync(`/run/netns/${netns}`)) await deleteNetns(netns);
  }
  if (previous.stateDir) await rm(previous.stateDir, { recursive: true, force: true });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What teardown should have removed: the namespace, child processes, mounts under the state dir. */
async function leftovers(
  runtime: NodeRuntime | undefined,
  children: RunningChild[],
  stateDir: string,
): Promise<string[]> {
  const found: string[] = [];
  for (const c of children) if (alive(c.pid)) found.push(`${c.name} process ${c.pid}`);
  if (runtime?.netnsName && existsSync(`/run/netns/${runtime.netnsName}`))
    found.push(`netns ${runtime.netnsName}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(stateDir));
  found.push(...mounts.map((m) => `mount ${m}`));
  return found;
}
