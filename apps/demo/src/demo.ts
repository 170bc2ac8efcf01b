import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Duplex, PassThrough } from 'node:stream';
import { type ApiServer, deleteNetns, type KubeObject, startApiServer } from '@nodeagent/testing';
import { isProcessAlive } from '@nodeagent/testing/netns';
import type { RunningChild } from './child-process';
import { type ClusterView, clusterView, readyEndpointPods, renderClusterView } from './cluster-view';
import { type Answer, everyPodAnswered, fetchRepeatedly, netnsFetcher, tallyAnswers } from './data-path';
import type { DemoOptions } from './demo-options';
import { ChildExitedError, DemoError, PrerequisiteError, StepTimeoutError } from './errors';
import { CLUSTER_CIDR, createFabric, type Fabric, fabricAddressOf, podCidrOf } from './fabric';
import {
  type AgentEntries,
  type NodeAgents,
  type NodeLayout,
  nodeLayout,
  prepareNodeAgents,
  sourceAgentEntries,
} from './node-agents';
import {
  type NodeRuntime,
  startContainerdRuntime,
  startFakeRuntime,
  stopStaleContainerd,
} from './node-runtime';
import { containerNetnsPath } from './pod-netns';
import { missingPrerequisites, type PrerequisiteInputs, systemPrerequisiteInputs } from './prerequisites';
import { acquireRunLock, defaultLockPath, type RunRecord } from './run-lock';
import { type SocketRelay, startSocketRelay } from './socket-relay';
import { createStepReporter, type StepReporter } from './step-reporter';
import { applyWorkload, readWorkload, replicaSetWorkload } from './workload';

/** The NoExecute taint the node lifecycle controller keeps on a node that is not Ready. */
const NOT_READY_TAINT = 'node.kubernetes.io/not-ready:';

/** The single-node box's node name (with --nodes N: nodeagent-demo-node-1 … -N). */
export const NODE_NAME = 'nodeagent-demo-node';
export const SERVICE_NAME = 'web';
/** The port the sample pods' httpd serves on (manifests/web.yaml). */
const POD_PORT = 8080;

export interface DemoIO {
  write(text: string): void;
  tty: boolean;
}

/** One node of the box as the summary reports it. */
export interface DemoNodeSummary {
  name: string;
  /** Its InternalIP (the fabric address with several nodes). */
  ip: string;
  podCIDR: string;
  netns?: string;
  /** containerd's directory (under the state dir). */
  runtimeDir?: string;
}

/** One request of the multi-node data-path check. */
export interface CrossNodeAnswer extends Answer {
  /** `pod` → a pod's IP directly; `service` → the ClusterIP; `nodeport` → another node's NodePort. */
  kind: 'pod' | 'service' | 'nodeport';
  /** The pod the request was sent from (its network namespace), or the node for `nodeport`. */
  from: string;
  fromNode: string;
  url: string;
  /** The node of the pod that answered. */
  answeredFromNode?: string;
}

export interface DemoResult {
  ok: boolean;
  runtime: 'containerd' | 'fake';
  /**
   * The containerd series the nodes run (containerd runtime only): NODEAGENT_CONTAINERD's, else
   * 2.1 when it is unpacked, else 1.6 (containerd-choice.ts).
   */
  containerd?: '1.6' | '2.1';
  proxyMode: string;
  /** Pods the EndpointSlice listed as ready for the ClusterIP Service. */
  expectedPods: string[];
  answers: Answer[];
  /** Requests to the NodePort Service on the node IP (containerd runtime only). */
  nodePortAnswers: Answer[];
  tally: Record<string, number>;
  /** Whether the packet test ran (not with the fake runtime). */
  dataPathChecked: boolean;
  /** The nodes, in order. */
  nodes: DemoNodeSummary[];
  /** Pod → pod, pod → ClusterIP and node → NodePort requests across nodes (--nodes > 1 with containerd). */
  crossNode: CrossNodeAnswer[];
  problems: string[];
  /** Things the show did without (not failures), e.g. kube-proxy without root. */
  notes: string[];
  /** Things still present after teardown (should be empty). */
  leftovers: string[];
  stateDir: string;
  kubeconfig: string;
  /** The first node's network namespace name (for leak checks). */
  netns?: string;
  /** The first node's containerd dir (for leak checks). */
  runtimeDir?: string;
  /** The fabric namespace (--nodes > 1 with containerd). */
  fabricNetns?: string;
}

/** One node of the running box: where its pods run and its agents. */
export interface DemoNode {
  readonly layout: NodeLayout;
  readonly name: string;
  readonly runtime: NodeRuntime;
  readonly nodeIP: string;
  readonly podCIDR: string;
  readonly agents: NodeAgents;
}

/** The running box, for what runs on top of it (a scenario: see RunDemoDeps.scenario). */
export interface DemoBox {
  readonly server: ApiServer;
  readonly nodes: readonly DemoNode[];
  readonly fabric: Fabric | undefined;
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly options: DemoOptions;
  readonly steps: StepReporter;
  /** Polls `probe` until it returns something, an agent dies unexpectedly, the timeout passes or Ctrl-C. */
  waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
  ): Promise<T>;
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
  /**
   * Runs once the box is up, the workload ready and the data path checked, before the live
   * status (or, with --once, the teardown). What it throws is reported as a problem.
   */
  scenario?: (box: DemoBox, io: DemoIO, signal: AbortSignal) => Promise<void>;
  /**
   * How the agents start, asked for once the prerequisites are met (main.ts bundles them);
   * sourceAgentEntries when undefined.
   */
  agentEntries?: () => AgentEntries;
}

/**
 * The whole show: API server, nodes (runtime, kubelet, kube-proxy; with several, a fabric
 * between them), workload, status, data path; then (unless --once) live status until `signal`
 * aborts; always a full teardown.
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
  const stateDir = await mkdtemp(join(tmpdir(), `nodeagent-demo-${process.pid}-`));
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  const run = new DemoRun(
    options,
    io,
    signal,
    prereq,
    lock,
    stateDir,
    deps.agentEntries ?? sourceAgentEntries,
  );
  const count = options.nodes;
  const title =
    count === 1
      ? `nodeagent node in a box (${run.result.runtime} runtime, kube-proxy ${options.proxyMode} mode)`
      : `nodeagent ${count}-node box (${run.result.runtime} runtime, kube-proxy ${options.proxyMode} mode on every node)`;
  io.write(`\n${title}\n\n`);
  try {
    await run.bringUp(deps.scenario);
  } catch (error) {
    run.fail(error);
  } finally {
    await run.tearDown();
  }
  return run.result;
}

/** One teardown step: what it stops, and how. */
export interface TeardownStep {
  title: string;
  run: () => Promise<void>;
  /**
   * Steps next to each other with the same `together` (the nodes' containerds) run at the same
   * time, as one step titled by it: each stops its own node's containers, namespace and mounts.
   */
  together?: string;
}

/** The steps of `list` (in order), those next to each other with the same `together` as one. */
export function teardownGroups(list: TeardownStep[]): TeardownStep[][] {
  const groups: TeardownStep[][] = [];
  for (const step of list) {
    const last = groups.at(-1);
    if (step.together !== undefined && last?.[0]?.together === step.together) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/** Runs the steps at the same time; fails with the first failure once all have finished. */
async function allSettledOrFirstFailure(group: TeardownStep[]): Promise<void> {
  const outcomes = await Promise.allSettled(group.map((step) => step.run()));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * One run of the demo: what it has started so far (for the teardown), the result it fills in,
 * and each stage of bringing the box up as a method, in the order bringUp calls them.
 */
class DemoRun {
  readonly result: DemoResult;
  readonly steps: StepReporter;
  readonly kubeconfig: string;
  private readonly teardown: TeardownStep[] = [];
  private readonly nodes: DemoNode[] = [];
  private fabric: Fabric | undefined;
  private server: ApiServer | undefined;

  constructor(
    private readonly options: DemoOptions,
    private readonly io: DemoIO,
    private readonly signal: AbortSignal,
    private readonly prereq: PrerequisiteInputs,
    private readonly lock: ReturnType<typeof acquireRunLock>,
    private readonly stateDir: string,
    private readonly agentEntries: () => AgentEntries,
  ) {
    this.steps = createStepReporter({ write: io.write, tty: io.tty });
    this.kubeconfig = join(stateDir, 'kubeconfig');
    this.result = {
      ok: false,
      runtime: options.fakeRuntime ? 'fake' : 'containerd',
      proxyMode: options.proxyMode,
      expectedPods: [],
      answers: [],
      nodePortAnswers: [],
      tally: {},
      dataPathChecked: false,
      nodes: [],
      crossNode: [],
      problems: [],
      notes: [],
      leftovers: [],
      stateDir,
      kubeconfig: this.kubeconfig,
    };
  }

  /** The node count (--nodes). */
  private get count(): number {
    return this.options.nodes;
  }

  /** The API server, once started. */
  private get api(): ApiServer {
    return this.server as ApiServer;
  }

  /** Every agent process started so far. */
  private children(): RunningChild[] {
    return this.nodes.flatMap((n) => n.agents.started);
  }

  private checkAbort(): void {
    if (this.signal.aborted) throw new AbortedError();
  }

  /** Polls `probe` until it returns something, a child dies, the timeout passes or Ctrl-C. */
  async waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
    /** What to report on timeout: the state last seen. */
    lastSeen: () => unknown = () => undefined,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkAbort();
      // Re-read each round: a scenario may stop an agent (no failure) and start a new one.
      const failures = Promise.race(this.children().map((c) => c.failure));
      const value = await Promise.race([Promise.resolve(probe()), failures]);
      if (value !== undefined) return value as T;
      if (Date.now() > deadline) throw new StepTimeoutError(what, lastSeen());
      await Promise.race([sleep(250), failures]);
    }
  }

  /** Records what a crash would leave behind, so the next run can clean it up. */
  private recordRun(): void {
    this.lock.record({
      stateDir: this.stateDir,
      runtimeDir: this.result.runtimeDir,
      netns: this.result.netns,
      fabricNetns: this.fabric?.netns.name,
      nodes: this.nodes.map((n) => ({
        netns: n.runtime.netnsName,
        runtimeDir: n.runtime.logFile ? dirname(n.runtime.logFile) : undefined,
      })),
    });
  }

  /** Every stage, in order, up to the live status; what fails throws. */
  async bringUp(scenario: RunDemoDeps['scenario']): Promise<void> {
    const previous = this.lock.previous;
    if (previous?.stateDir) {
      await this.steps.run(`clean up after an earlier run that did not finish (pid ${previous.pid})`, () =>
        cleanUpStaleRun(previous),
      );
    }
    const bootstrapKubeconfig = await this.startApiServer();
    this.checkAbort();
    if (this.count > 1 && !this.options.fakeRuntime) await this.createFabric();
    for (let index = 1; index <= this.count; index++) {
      await this.startNodeRuntime(index);
      this.checkAbort();
    }
    const apiSocket = await this.startApiRelay();
    await this.startAgents(apiSocket, bootstrapKubeconfig);
    await this.waitForNodes();
    await this.waitForKubeProxies();
    const view = await this.applyWorkload();

    // 6. The data path: ClusterIP → kube-proxy rules → a pod, from inside the (first) node's namespace.
    const first = this.nodes[0] as DemoNode;
    const service = view.services.find((s) => s.name === SERVICE_NAME);
    if (first.runtime.kind === 'containerd' && first.runtime.netnsPath && service) {
      await this.checkNodeDataPath(first, view, service.clusterIP);
      if (this.count > 1) await this.checkCrossNode(view, service.clusterIP);
    } else {
      this.io.write('\nNo packet test with the fake runtime: its pods have no network.\n');
    }
    this.result.ok = this.result.problems.length === 0;

    if (scenario) {
      await scenario(this.box(), this.io, this.signal);
      this.result.ok = this.result.problems.length === 0;
    }
    this.printHowToTalk();
    if (!this.options.once) await this.liveStatus();
  }

  /** The running box as a scenario sees it. */
  private box(): DemoBox {
    return {
      server: this.api,
      nodes: this.nodes,
      fabric: this.fabric,
      stateDir: this.stateDir,
      kubeconfig: this.kubeconfig,
      options: this.options,
      steps: this.steps,
      waitFor: (w, p, t) => this.waitFor(w, p, t),
    };
  }

  /**
   * 1. API server with the EndpointSlice controller, reachable from the node namespaces; its
   * kubeconfig written. Returns the bootstrap kubeconfig's path.
   */
  private async startApiServer(): Promise<string> {
    const { options } = this;
    const server: ApiServer = await this.steps.run(
      'API server (in-process, HTTPS, EndpointSlice controller, CSR approver and signer, control plane)',
      async () =>
        startApiServer({
          endpointSliceController: true,
          tls: true,
          kubelet: { dial: (location) => this.dialKubelet(location) },
          // Node lifecycle, taint eviction, scheduler, ReplicaSets (issue #19); the node lifecycle
          // timings come from --node-monitor-grace-period / --node-monitor-period.
          controlPlane: {
            nodeLifecycle: {
              nodeMonitorGracePeriodSeconds: options.scenario.nodeMonitorGracePeriodSeconds,
              nodeMonitorPeriodSeconds: options.scenario.nodeMonitorPeriodSeconds,
            },
          },
        }),
      (s) => s.url,
    );
    this.server = server;
    this.teardown.push({ title: 'API server', run: () => server.close() });
    server.writeKubeconfig(this.kubeconfig);
    const bootstrapKubeconfig = join(this.stateDir, 'bootstrap-kubelet.conf');
    server.writeBootstrapKubeconfig(bootstrapKubeconfig, server.createBootstrapToken());
    return bootstrapKubeconfig;
  }

  /**
   * The API server reaches each kubelet's server (kubectl logs, exec, port-forward) through a
   * relay in that node's namespace, found by the node address it dials: the node IPs exist only
   * in there, and a connect() from the host would go out through the host's default route.
   */
  private dialKubelet(location: { host: string }): Duplex {
    const socket = this.nodes.find((n) => n.nodeIP === location.host)?.agents.kubeletSocket;
    if (socket) return connect(socket);
    const refused = new PassThrough();
    process.nextTick(() =>
      refused.destroy(
        new Error(
          `no kubelet server reachable at ${location.host}: the demo node runs without a network namespace and its kubelet without a server`,
        ),
      ),
    );
    return refused;
  }

  /** 2. With several nodes (and real pods), the fabric they join. */
  private async createFabric(): Promise<void> {
    const made = await this.steps.run(
      'fabric network namespace with bridge fabric0 (the network between the nodes)',
      () => createFabric(),
      (f) => `netns ${f.netns.name}`,
    );
    this.fabric = made;
    this.result.fabricNetns = made.netns.name;
    this.recordRun();
    this.teardown.push({ title: `fabric namespace ${made.netns.name}`, run: () => made.delete() });
  }

  /** 3. Node `index`'s runtime: containerd in its network namespace, or the fake CRI runtime; then the fabric. */
  private async startNodeRuntime(index: number): Promise<void> {
    const { options, count, result } = this;
    const layout = nodeLayout(this.stateDir, index, count);
    await mkdir(layout.dir, { recursive: true });
    const podSubnet = count > 1 ? podCidrOf(index) : undefined;
    const on = count > 1 ? ` for ${layout.name}` : '';
    const runtime = await this.steps.run(
      options.fakeRuntime
        ? `fake CRI runtime${on}`
        : `containerd in ${count > 1 ? `${layout.name}'s` : 'the node'} network namespace (local images)`,
      () =>
        options.fakeRuntime
          ? startFakeRuntime(this.prereq.uid === 0, layout.dir, podSubnet)
          : startContainerdRuntime({
              baseDir: join(layout.dir, 'containerd'),
              podSubnet,
              uplink: count === 1,
            }),
      (r) => (r.netnsName ? `netns ${r.netnsName}, pod subnet ${r.podSubnet}` : `pod subnet ${r.podSubnet}`),
    );
    this.teardown.push({
      title:
        runtime.kind === 'fake' ? `fake runtime${on}` : `containerd${on} (containers, namespace, mounts)`,
      run: () => runtime.stop(),
      ...(runtime.kind === 'containerd' && count > 1
        ? { together: `containerd on the ${count} nodes at once (containers, namespaces, mounts)` }
        : {}),
    });
    if (index === 1) {
      result.netns = runtime.netnsName;
      result.runtimeDir = runtime.logFile ? dirname(runtime.logFile) : undefined;
      result.containerd = runtime.containerd?.version;
      if (runtime.containerd) this.steps.note(runtime.containerd.line);
    }
    // Recorded before anything else can fail, so a crash's next run finds it.
    const placeholder = { layout, name: layout.name, runtime } as DemoNode;
    this.nodes.push(placeholder);
    this.recordRun();
    let nodeIP = runtime.nodeIP;
    if (this.fabric && runtime.netnsName) {
      const f = this.fabric;
      const name = runtime.netnsName;
      nodeIP = fabricAddressOf(index);
      await this.steps.run(
        `${layout.name} joins the fabric`,
        () => f.attach(name, index, count),
        () => `eth0 ${nodeIP}, routes to the other nodes' pod CIDRs`,
      );
    }
    this.nodes[index - 1] = { ...placeholder, nodeIP, podCIDR: runtime.podSubnet } as DemoNode;
  }

  /**
   * The API server listens on host loopback; a relay in each node namespace forwards its port
   * over this unix socket, so one kubeconfig serves kubectl and the agents. Returns its path.
   */
  private async startApiRelay(): Promise<string> {
    const apiSocket = join(this.stateDir, 'api.sock');
    if (this.nodes.some((n) => n.runtime.netnsPath)) {
      const hostRelay: SocketRelay = await startSocketRelay(
        { path: apiSocket },
        { host: '127.0.0.1', port: this.api.port },
      );
      this.teardown.push({ title: 'API relay', run: () => hostRelay.close() });
    }
    return apiSocket;
  }

  /**
   * 4. The agents: on every node the relays, then the kubelet (registers the node) and
   * kube-proxy (in the same namespace, never the host's netfilter), all starting together:
   * each takes a few seconds to load.
   */
  private async startAgents(apiSocket: string, bootstrapKubeconfig: string): Promise<void> {
    const { count } = this;
    const entries = this.agentEntries();
    for (const [i, node] of this.nodes.entries()) {
      const agents = await prepareNodeAgents({
        entries,
        layout: node.layout,
        runtime: node.runtime,
        nodeIP: node.nodeIP,
        apiPort: this.api.port,
        apiSocket,
        kubeconfig: this.kubeconfig,
        bootstrapKubeconfig,
        proxyMode: this.options.proxyMode,
        clusterCIDR: count > 1 ? CLUSTER_CIDR : node.runtime.podSubnet,
        nodeLeaseDurationSeconds: this.options.scenario.nodeLeaseDurationSeconds,
      });
      this.nodes[i] = { ...node, agents };
      const on = count > 1 ? ` on ${node.name}` : '';
      if (node.runtime.netnsPath) {
        this.teardown.push({
          title: `API and kubelet relays in the node namespace${on}`,
          run: () => agents.stop(),
        });
      }
      this.teardown.push({ title: `kubelet${on}`, run: () => agents.stopKubelet() });
      this.teardown.push({ title: `kube-proxy${on}`, run: () => agents.stopKubeProxy() });
      await agents.startKubelet();
      agents.startKubeProxy();
    }
  }

  /** Each kubelet registers its node, which gets its pod CIDR and turns Ready. */
  private async waitForNodes(): Promise<void> {
    const server = this.api;
    const nodeRT = server.resource('v1', 'nodes');
    for (const node of this.nodes) {
      const kubelet = node.agents.kubelet as RunningChild;
      await this.steps.run(
        `nodeagent-kubelet (pid ${kubelet.pid}) registers node ${node.name}`,
        async () => {
          await this.waitFor(
            `node ${node.name} registered`,
            () => server.registry.find(nodeRT, undefined, node.name),
            90_000,
          );
          // The pod CIDR, as kube-controller-manager's node IPAM would allocate it.
          server.registry.patch(
            nodeRT,
            undefined,
            node.name,
            'application/merge-patch+json',
            JSON.stringify({ spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] } }),
          );
          // Ready, and seen Ready by the node lifecycle controller: a kubelet is NotReady until
          // its CSINode exists (as upstream's), and the controller's not-ready taint goes on its
          // next pass after Ready.
          await this.waitFor(
            `node ${node.name} Ready`,
            () => {
              const view = clusterView(server).nodes.find((n) => n.name === node.name);
              const settled =
                view?.ready === 'True' && !view.taints.some((t) => t.startsWith(NOT_READY_TAINT));
              return settled ? true : undefined;
            },
            90_000,
          );
        },
        () => `Ready, pod CIDR ${node.podCIDR}`,
      );
    }
    this.result.nodes = this.nodes.map((n) => ({
      name: n.name,
      ip: n.nodeIP,
      podCIDR: n.podCIDR,
      netns: n.runtime.netnsName,
      runtimeDir: n.runtime.logFile ? dirname(n.runtime.logFile) : undefined,
    }));
  }

  /** Each kube-proxy answers /healthz (one that could not start without root is noted instead). */
  private async waitForKubeProxies(): Promise<void> {
    const { result, steps } = this;
    for (const node of this.nodes) {
      const proxy = node.agents.kubeProxy;
      if (proxy && node.runtime.netnsPath) {
        const healthz = netnsFetcher(node.runtime.netnsPath, 1);
        await steps.run(
          `kube-proxy (pid ${proxy.pid}, ${this.options.proxyMode} mode)${this.count > 1 ? ` on ${node.name}` : ''} healthy`,
          () =>
            this.waitFor(
              'kube-proxy /healthz',
              () =>
                healthz('http://127.0.0.1:10256/healthz').then(
                  () => true,
                  () => undefined,
                ),
              90_000,
            ),
        );
      } else if (!result.notes.some((n) => n.startsWith('kube-proxy not started'))) {
        result.notes.push('kube-proxy not started: it needs root for its network namespace');
        steps.note('kube-proxy skipped: needs root (its rules go into a network namespace)');
      }
    }
  }

  /**
   * 5. The sample workload (with several nodes: two pods per node, placed by nodeName), until
   * its pods are Ready and published as endpoints; the cluster view then is printed and returned.
   */
  private async applyWorkload(): Promise<ClusterView> {
    const { count, steps } = this;
    const server = this.api;
    const first = this.nodes[0] as DemoNode;
    const base = readWorkload({
      nodeName: first.name,
      image: first.runtime.image,
      fakeRuntime: first.runtime.kind === 'fake',
    });
    // One node: the two pods as the manifests say, on it. Several: a ReplicaSet of two pods per
    // node, placed by the scheduler.
    const objects: KubeObject[] = count > 1 ? replicaSetWorkload(base, 2 * count) : base;
    const applied = await steps.run(
      `apply the sample workload (manifests/web.yaml${count > 1 ? `, as ReplicaSet web with ${2 * count} replicas` : ''})`,
      async () => applyWorkload(server, objects),
      (names) => names.join(', '),
    );
    if (first.runtime.kind === 'fake') {
      steps.note('fake runtime: containers run a sleep instead of httpd and have no readiness probes');
    }
    const podCount = count > 1 ? 2 * count : applied.filter((n) => n.startsWith('pod/')).length;
    const view = await steps.run(
      'pods Running and Ready, endpoints published',
      () =>
        this.waitFor(
          'pods ready',
          () => {
            const v = clusterView(server);
            const readyPods = v.pods.filter((p) => p.ready).length;
            return readyPods === podCount && readyEndpointPods(v, SERVICE_NAME).length === podCount
              ? v
              : undefined;
          },
          this.options.readyTimeoutSeconds * 1000,
          () =>
            clusterView(server)
              .pods.map((p) => `${p.name} ${p.phase} ${p.ready ? 'ready' : 'not ready'}`)
              .join(', '),
        ),
      (v: ClusterView) =>
        v.pods.map((p) => `${p.name} ${p.podIP}${count > 1 ? ` on ${p.node}` : ''}`).join(', '),
    );
    this.result.expectedPods = readyEndpointPods(view, SERVICE_NAME);
    this.io.write(`\n${renderClusterView(view)}\n`);
    return view;
  }

  /** How to reach the box with kubectl, and where the logs are. */
  private printHowToTalk(): void {
    const { options } = this;
    const logFiles = this.children().map((c) => c.logFile);
    const containerdLogs = this.nodes.flatMap((n) => (n.runtime.logFile ? [n.runtime.logFile] : []));
    this.io.write(
      [
        '',
        'Talk to it:',
        `  kubectl --kubeconfig ${this.kubeconfig} get nodes,pods,svc,endpointslices${this.count > 1 ? ' -o wide' : ''}`,
        `Logs: ${[...new Set(logFiles)].join(', ')}${containerdLogs.length > 0 ? `, containerd: ${containerdLogs.join(', ')}` : ''}${options.keepLogs ? '' : ' (removed at teardown unless the run failed; --keep-logs keeps them)'}`,
        '',
      ].join('\n'),
    );
  }

  /** 7. Live status until Ctrl-C, or until an agent dies (a problem). */
  private async liveStatus(): Promise<void> {
    const { io, result } = this;
    io.write('Live status (Ctrl-C tears everything down):\n\n');
    let previousText = '';
    let lines = 0;
    while (!this.signal.aborted) {
      const text = renderClusterView(clusterView(this.api));
      if (text !== previousText) {
        if (io.tty && lines > 0) io.write(`\x1b[${lines}A\x1b[0J`);
        io.write(text);
        lines = text.split('\n').length - 1;
        previousText = text;
      }
      const dead = await Promise.race([
        sleep(1000).then(() => undefined),
        ...this.children().map((c) => c.failure),
      ]).catch((error: Error) => error);
      if (dead) {
        result.problems.push(dead.message);
        result.ok = false;
        io.write(`\n✘ ${dead.message}\n`);
        break;
      }
    }
  }

  /** What bringUp threw, as a problem (an interruption is none); a dead agent's log tail shown. */
  fail(error: unknown): void {
    this.result.ok = false;
    if (!(error instanceof AbortedError)) this.result.problems.push((error as Error).message);
    if (error instanceof ChildExitedError) {
      this.io.write(`\nLast lines of ${error.field}'s log (${error.logFile}):\n${tail(error.logFile)}\n`);
    }
  }

  /** Stops everything started, newest first, then looks for what is left behind. */
  async tearDown(): Promise<void> {
    const { io, result, stateDir } = this;
    this.steps.close();
    io.write('\nTearing down:\n');
    for (const group of teardownGroups(this.teardown.reverse())) {
      const [first] = group as [TeardownStep];
      const title = group.length === 1 ? first.title : (first.together as string);
      await this.steps.run(`stop ${title}`, () => allSettledOrFirstFailure(group)).catch(() => undefined);
    }
    result.leftovers = await leftovers(
      [...this.nodes.map((n) => n.runtime.netnsName), this.fabric?.netns.name],
      this.children(),
      stateDir,
    );
    // A failed run keeps its logs: they are what explains the failure (not an interrupted one).
    const keep = this.options.keepLogs || (!result.ok && !this.signal.aborted);
    if (!keep) await rm(stateDir, { recursive: true, force: true });
    this.lock.release();
    if (result.leftovers.length > 0) {
      result.ok = false;
      io.write(`  ✘ left behind: ${result.leftovers.join('; ')}\n`);
    } else {
      io.write(`  ✔ nothing left behind${keep ? ` (logs kept in ${stateDir})` : ''}\n`);
    }
  }

  /** The single-node check, also run on node 1 of several: ClusterIP and NodePort from the node. */
  private async checkNodeDataPath(node: DemoNode, view: ClusterView, clusterIP: string): Promise<void> {
    const { io, options, result, steps, count } = this;
    const url = `http://${clusterIP}:80/`;
    const fetch = netnsFetcher(node.runtime.netnsPath as string);
    // kube-proxy programs endpoints asynchronously (min sync period): wait, visibly, until
    // the rules reach every ready pod before the counted requests.
    await steps.run(
      `kube-proxy routes ${clusterIP}:80 to every ready pod`,
      async () => {
        const seen = new Set<string>();
        let sent = 0;
        await this.waitFor(
          `answers from ${result.expectedPods.join(', ')} through the ClusterIP`,
          async () => {
            sent++;
            const body = await fetch(url).catch(() => undefined);
            if (body) seen.add(body.trim());
            return result.expectedPods.every((p) => seen.has(p)) ? true : undefined;
          },
          60_000,
        );
        return sent;
      },
      (sent) => `${sent} warm-up request${sent === 1 ? '' : 's'}`,
    );
    result.answers = await fetchRepeatedly(fetch, url, options.requests, result.expectedPods);
    result.dataPathChecked = true;
    io.write(`\nFetching ${url} from ${count > 1 ? `${node.name}'s` : 'the node'} namespace:\n`);
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
      // Each connection picks an endpoint at random: with more pods, more requests before one
      // that has not answered yet counts as unreachable.
      const sends = Math.max(4, 2 * result.expectedPods.length);
      result.nodePortAnswers = await fetchRepeatedly(fetch, nodeUrl, sends, result.expectedPods);
      const line = result.nodePortAnswers.map((a) => a.answeredBy ?? 'failed').join(', ');
      if (everyPodAnswered(result.nodePortAnswers, result.expectedPods)) {
        io.write(`  ✔ NodePort ${nodeUrl} answered by: ${line}\n`);
      } else {
        result.problems.push(`NodePort ${nodeUrl}: not every pod answered (${line})`);
        io.write(`  ✘ NodePort ${nodeUrl} answered by: ${line}\n`);
      }
    }
  }

  /**
   * Across nodes, from inside pods (their own network namespaces, their own addresses): each
   * node's first pod fetches every pod on the other nodes by pod IP, then the ClusterIP until every
   * pod (on every node) has answered; and each node's NodePort is fetched from the next node.
   */
  private async checkCrossNode(view: ClusterView, clusterIP: string): Promise<void> {
    const { io, options, result, nodes } = this;
    const nodeOf = new Map(view.pods.map((p) => [p.name, p.node]));
    const podRT = this.api.resource('v1', 'pods');
    io.write('\nAcross nodes, from inside pods:\n');
    const record = (answer: CrossNodeAnswer, expect?: string) => {
      answer.answeredFromNode = answer.answeredBy ? nodeOf.get(answer.answeredBy) : undefined;
      result.crossNode.push(answer);
      const ok = answer.error === undefined && (expect === undefined || answer.answeredBy === expect);
      io.write(
        `  ${ok ? '✔' : '✘'} ${answer.from} (${answer.fromNode}) → ${answer.url} → ${answer.answeredBy ? `${answer.answeredBy} (${answer.answeredFromNode})` : `failed: ${answer.error}`}\n`,
      );
      if (!ok)
        result.problems.push(
          `${answer.kind} ${answer.from} → ${answer.url}: ${answer.error ?? `answered by ${answer.answeredBy}, not ${expect}`}`,
        );
    };
    for (const node of nodes) {
      const client = view.pods.find((p) => p.node === node.name && p.ready);
      if (!client) {
        result.problems.push(`no ready pod on ${node.name} to send from`);
        continue;
      }
      const pod = this.api.registry.get(podRT, 'default', client.name) as {
        status?: { containerStatuses?: { containerID?: string }[] };
      };
      const containerID = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      const fetch = netnsFetcher(await containerNetnsPath(node.runtime.endpoint, containerID));
      for (const target of view.pods.filter((p) => p.node !== node.name)) {
        const url = `http://${target.podIP}:${POD_PORT}/`;
        const [answer] = await fetchRepeatedly(fetch, url, 1);
        record(
          { ...(answer as Answer), kind: 'pod', from: client.name, fromNode: node.name, url },
          target.name,
        );
      }
      const url = `http://${clusterIP}:80/`;
      const answers = await fetchRepeatedly(
        fetch,
        url,
        Math.max(options.requests, 2 * view.pods.length),
        result.expectedPods,
      );
      for (const a of answers) record({ ...a, kind: 'service', from: client.name, fromNode: node.name, url });
      const heard = new Set(answers.map((a) => a.answeredBy));
      const unheard = result.expectedPods.filter((p) => !heard.has(p));
      if (unheard.length > 0)
        result.problems.push(
          `ClusterIP from ${client.name} on ${node.name}: no answer from ${unheard.join(', ')}`,
        );
    }
    const nodePort = view.services.find((s) => s.type === 'NodePort')?.nodePorts[0];
    if (nodePort) {
      for (const [i, node] of nodes.entries()) {
        const target = nodes[(i + 1) % nodes.length] as DemoNode;
        const url = `http://${target.nodeIP}:${nodePort}/`;
        const fetch = netnsFetcher(node.runtime.netnsPath as string);
        const [answer] = await fetchRepeatedly(fetch, url, 1);
        record({ ...(answer as Answer), kind: 'nodeport', from: node.name, fromNode: node.name, url });
      }
    }
  }
}

/** Leftovers of a run killed without teardown: containerds, agents (if any survived), namespaces, files. */
async function cleanUpStaleRun(previous: RunRecord): Promise<void> {
  const nodes = previous.nodes ?? [{ netns: previous.netns, runtimeDir: previous.runtimeDir }];
  // containerd first (it outlives the demo: detached): it stops its tasks while it can. Each
  // node's on its own, all at the same time.
  await Promise.all(
    nodes.map(async (node) => {
      if (node.runtimeDir && existsSync(join(node.runtimeDir, 'instance.json'))) {
        await stopStaleContainerd(node.runtimeDir);
      }
    }),
  );
  const dirs = [previous.stateDir, ...nodes.map((n) => n.runtimeDir)];
  for (const dir of dirs) {
    if (!dir) continue;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
  }
  // Only namespaces this demo names (the dead run's PID in it), never anyone else's.
  for (const netns of [...nodes.map((n) => n.netns), previous.fabricNetns]) {
    if (netns && /^na-(ctrd|demo|fabric)-\d+-/.test(netns) && netns.includes(`-${previous.pid}-`)) {
      if (existsSync(`/run/netns/${netns}`)) await deleteNetns(netns);
    }
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

/** What teardown should have removed: the namespaces, child processes, mounts under the state dir. */
async function leftovers(
  namespaces: (string | undefined)[],
  children: RunningChild[],
  stateDir: string,
): Promise<string[]> {
  const found: string[] = [];
  for (const c of children) if (isProcessAlive(c.pid)) found.push(`${c.name} process ${c.pid}`);
  for (const netns of namespaces) {
    if (netns && existsSync(`/run/netns/${netns}`)) found.push(`netns ${netns}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(stateDir));
  found.push(...mounts.map((m) => `mount ${m}`));
  return found;
}
