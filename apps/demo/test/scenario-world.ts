/**
 * A scripted cluster for the scenario observers' unit tests: a ClusterApi over plain objects and
 * per-node runtimes, advanced by the injected clock's sleep. `step` plays what the control plane
 * and the agents do (upstream's behaviour, simplified), so a test can also make one of them
 * misbehave and check the observer says so.
 */
import type { KubeObject } from '@nodeagent/testing';
import type {
  ClusterApi,
  RuntimeContainer,
  ScenarioBox,
  ScenarioClock,
  ScenarioNode,
} from '../src/scenarios/scenario-box';

// biome-ignore lint/suspicious/noExplicitAny: plain wire JSON of several kinds (nodes, leases, pods, Services)
type Obj = KubeObject & Record<string, any>;

export interface WorldSettings {
  gracePeriodMs: number;
  tolerationMs: number;
  leaseRenewMs: number;
  /** A kubelet bug to simulate: restart exited containers even while the kubelet is stopped. */
  restartWithoutKubelet?: boolean;
  /** A control-plane bug to simulate: the node lifecycle controller never marks nodes Unknown. */
  noLifecycle?: boolean;
  /** How long a kubelet takes to stop a deleted pod's containers and confirm (its grace period); default 0. */
  confirmDeleteAfterMs?: number;
}

export class World {
  now = 1_000_000;
  objects = new Map<string, Obj>();
  containers = new Map<string, (RuntimeContainer & { node: string })[]>();
  kubeletUp = new Map<string, boolean>();
  proxyUp = new Map<string, boolean>();
  /** Per node, the Services its kube-proxy has programmed and their endpoints (pod names). */
  programmed = new Map<string, Map<string, string[]>>();
  /** Per node, when its kube-proxy last changed its rules (its last-sync metric); absent: never since start. */
  lastSync = new Map<string, number>();
  taintedAt = new Map<string, number>();
  seq = 0;
  readonly clock: ScenarioClock = {
    now: () => this.now,
    sleep: async (ms) => {
      this.now += ms;
      this.step();
    },
  };

  constructor(
    readonly nodeNames: string[],
    readonly settings: WorldSettings,
  ) {
    for (const n of nodeNames) {
      this.kubeletUp.set(n, true);
      this.proxyUp.set(n, true);
      this.containers.set(n, []);
      this.programmed.set(n, new Map());
      this.put('v1', 'nodes', undefined, {
        metadata: { name: n },
        spec: {},
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      });
      this.put('coordination.k8s.io/v1', 'leases', 'kube-node-lease', {
        metadata: { name: n },
        spec: { renewTime: new Date(this.now).toISOString() },
      });
    }
  }

  key(apiVersion: string, plural: string, ns: string | undefined, name: string) {
    return `${apiVersion}/${plural}/${ns ?? ''}/${name}`;
  }
  put(apiVersion: string, plural: string, ns: string | undefined, o: Obj) {
    o.metadata.namespace = ns;
    o.metadata.uid ??= `uid-${++this.seq}`;
    this.objects.set(this.key(apiVersion, plural, ns, o.metadata.name ?? ''), o);
    return o;
  }
  list(apiVersion: string, plural: string, ns?: string): Obj[] {
    const prefix = `${apiVersion}/${plural}/${ns ?? ''}/`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => o);
  }
  pod(name: string, node: string, labels: Record<string, string> = { app: 'web' }, owner?: string) {
    return this.put('v1', 'pods', 'default', {
      metadata: {
        name,
        labels,
        ...(owner
          ? {
              ownerReferences: [
                { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'rs', controller: true },
              ],
            }
          : {}),
      },
      spec: { nodeName: node, containers: [{ name: 'httpd', image: 'busybox' }] },
      status: { phase: 'Pending' },
    });
  }

  readonly api: ClusterApi = {
    list: (v, p, ns) => this.list(v, p, ns),
    get: (v, p, ns, name) => this.objects.get(this.key(v, p, ns, name)),
    create: (v, p, ns, o) => {
      const copy = structuredClone(o) as Obj;
      if (p === 'services') copy.spec.clusterIP = `10.96.0.${10 + this.seq}`;
      if (p === 'pods') copy.status = { phase: 'Pending' };
      return this.put(v, p, ns, copy);
    },
    delete: (v, p, ns, name) => {
      const o = this.objects.get(this.key(v, p, ns, name));
      if (o) o.metadata.deletionTimestamp = new Date(this.now).toISOString();
    },
  };

  node(name: string): Obj {
    return this.objects.get(this.key('v1', 'nodes', undefined, name)) as Obj;
  }

  /** One tick of the control plane and the agents. */
  step(): void {
    const s = this.settings;
    const pods = () => this.list('v1', 'pods', 'default');
    for (const name of this.nodeNames) {
      const node = this.node(name);
      const lease = this.objects.get(
        this.key('coordination.k8s.io/v1', 'leases', 'kube-node-lease', name),
      ) as Obj;
      const up = this.kubeletUp.get(name);
      const runtime = this.containers.get(name) ?? [];
      if (up) {
        if (this.now - Date.parse(lease.spec.renewTime) >= s.leaseRenewMs)
          lease.spec.renewTime = new Date(this.now).toISOString();
        node.status.conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }];
        // The kubelet: start what is bound here, restart what exited, stop and confirm deleted pods.
        for (const p of pods().filter((x) => x.spec.nodeName === name)) {
          const mine = runtime.filter((c) => c.podUid === p.metadata.uid);
          if (
            p.metadata.deletionTimestamp &&
            this.now - Date.parse(p.metadata.deletionTimestamp) >= (s.confirmDeleteAfterMs ?? 0)
          ) {
            for (const c of mine) c.state = 'exited';
            this.objects.delete(this.key('v1', 'pods', 'default', p.metadata.name ?? ''));
            continue;
          }
          if (p.metadata.deletionTimestamp) continue;
          if (!mine.some((c) => c.state === 'running')) this.run(name, p, mine.length);
          p.status.phase = 'Running';
          p.status.podIP ??= `10.244.0.${++this.seq}`;
        }
        // Orphans (pods gone from the API) are stopped too.
        for (const c of runtime) if (!pods().some((p) => p.metadata.uid === c.podUid)) c.state = 'exited';
      } else if (s.restartWithoutKubelet) {
        for (const c of runtime.filter((x) => x.state === 'exited'))
          this.run(name, pods().find((p) => p.metadata.uid === c.podUid) as Obj, c.attempt + 1);
      }
      // Node lifecycle controller: grace period, then Unknown and the unreachable taints.
      const stale = this.now - Date.parse(lease.spec.renewTime) > s.gracePeriodMs;
      if (stale && !s.noLifecycle) {
        node.status.conditions = [
          {
            type: 'Ready',
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
          },
        ];
        if (!this.taintedAt.has(name)) this.taintedAt.set(name, this.now);
        node.spec.taints = [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
        ];
      } else if (!stale) {
        node.spec.taints = [];
        this.taintedAt.delete(name);
      }
      // Taint eviction after the toleration.
      const tainted = this.taintedAt.get(name);
      if (tainted !== undefined && this.now - tainted >= s.tolerationMs) {
        for (const p of pods().filter((x) => x.spec.nodeName === name && x.metadata.labels?.app === 'web')) {
          p.metadata.deletionTimestamp ??= new Date(this.now).toISOString();
        }
      }
      // kube-proxy: programs every Service and its Running endpoints while it runs; a sync is
      // its first after a start or one that changes something.
      if (this.proxyUp.get(name)) {
        const rules = new Map<string, string[]>();
        for (const svc of this.list('v1', 'services', 'default')) {
          const selector: Record<string, string> = svc.spec.selector ?? {};
          const endpoints = pods()
            .filter(
              (p) =>
                !p.metadata.deletionTimestamp &&
                p.status.phase === 'Running' &&
                Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
            )
            .map((p) => p.metadata.name ?? '')
            .sort();
          rules.set(svc.metadata.name ?? '', endpoints);
        }
        const before = JSON.stringify([...(this.programmed.get(name) ?? [])]);
        if (!this.lastSync.has(name) || before !== JSON.stringify([...rules])) {
          this.programmed.set(name, rules);
          this.lastSync.set(name, this.now);
        }
      }
    }
    // Stored ReplicaSets (the scenarios' own): keep spec.replicas active pods, new IPs each time.
    for (const rs of this.list('apps/v1', 'replicasets', 'default')) {
      const match: Record<string, string> = rs.spec.selector.matchLabels;
      const mine = pods().filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          Object.entries(match).every(([k, v]) => p.metadata.labels?.[k] === v),
      );
      for (let i = mine.length; i < rs.spec.replicas; i++)
        this.pod(`${rs.metadata.name}-${++this.seq}`, '', rs.spec.template.metadata.labels, rs.metadata.name);
    }
    // ReplicaSet: 4 active web pods; scheduler: first untainted node.
    const untainted = this.nodeNames.find((n) => (this.node(n).spec.taints ?? []).length === 0) ?? '';
    const active = pods().filter((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp);
    for (let i = active.length; i < 4; i++) this.pod(`web-new${++this.seq}`, '', undefined, 'web');
    for (const p of pods().filter((x) => !x.spec.nodeName)) p.spec.nodeName = untainted;
  }

  run(node: string, pod: Obj, attempt: number): void {
    this.containers.get(node)?.push({
      id: `c${++this.seq}`,
      name: 'httpd',
      attempt,
      podName: pod.metadata.name ?? '',
      podNamespace: 'default',
      podUid: pod.metadata.uid ?? '',
      state: 'running',
      node,
    });
  }

  box(): ScenarioBox {
    const nodes: ScenarioNode[] = this.nodeNames.map((name) => ({
      name,
      runtime: {
        listContainers: async () => (this.containers.get(name) ?? []).map((c) => ({ ...c })),
        killContainer: async (id) => {
          const c = this.containers.get(name)?.find((x) => x.id === id);
          if (c) c.state = 'exited';
        },
      },
      stopKubelet: async () => {
        this.kubeletUp.set(name, false);
        return { pid: 101 };
      },
      startKubelet: async () => {
        this.kubeletUp.set(name, true);
        return { pid: 202 };
      },
      stopKubeProxy: async () => {
        this.proxyUp.set(name, false);
        this.lastSync.delete(name);
        return { pid: 303 };
      },
      startKubeProxy: async () => {
        this.proxyUp.set(name, true);
        return { pid: 404 };
      },
      fetch: async (url) => {
        if (url === 'http://127.0.0.1:10249/metrics') {
          if (!this.proxyUp.get(name))
            throw new Error("wget: can't connect to remote host: Connection refused");
          const at = this.lastSync.get(name);
          return `kubeproxy_sync_proxy_rules_last_timestamp_seconds ${at === undefined ? 0 : at / 1000}\n`;
        }
        const svc = this.list('v1', 'services', 'default').find((x) =>
          url.includes(`//${x.spec.clusterIP}:`),
        );
        // Programmed endpoints whose pod is gone are stale rules: the packets go nowhere.
        const alive = (this.programmed.get(name)?.get(svc?.metadata.name ?? '') ?? []).filter((pod) =>
          this.objects.has(this.key('v1', 'pods', 'default', pod)),
        );
        if (!svc || alive.length === 0) throw new Error('wget: download timed out');
        return `${alive[0]}\n`;
      },
    }));
    return { api: this.api, nodes, namespace: 'default' };
  }
}
