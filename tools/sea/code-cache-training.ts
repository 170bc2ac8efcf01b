/**
 * The training run behind an executable's trained code cache (build.mjs, `trainCodeCache`): the
 * app's bundle started once, under the executable's own Node and V8 flags, against doubles of
 * what it talks to, and V8's code cache of the bundle written after the start
 * (code-cache-trainee.cjs). That cache holds the bytecode of every function the start compiled,
 * so a start from it compiles almost nothing; a cache made before the run holds the top level only.
 *
 * - nodeagent-kubelet: the in-process API server over HTTPS and the fake CRI runtime of
 *   @nodeagent/cri-client, one static pod, as the start-up bench's kubeadm-shaped start; the
 *   cache is written 2 s after "kubelet started" (the node registered, the static pod running).
 * - nodeagent-kube-proxy, only when the build asks (targets.mjs leaves it off: dearer at 5k × 50):
 *   nftables mode (netlink only, no program needed) in a throwaway network namespace, against
 *   the in-process API server with 20 Services of 5 endpoints bridged into it; the cache is
 *   written 1 s after the first sync. Needs root (the namespace); without it the build keeps the
 *   top-level cache.
 * The kubelet's needs no root (tried as nobody).
 *
 * Nothing reaches the network or the host's network stack. Run with tsx by build.mjs:
 *   node --import tsx --conditions=@nodeagent/source tools/sea/code-cache-training.ts '<JSON TrainingRequest>'
 * It exits 0 with the cache at `out`, or non-zero with the reason on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ApiServer,
  addServiceCluster,
  bridgeIntoNetns,
  createNetns,
  startApiServer,
} from '@nodeagent/testing';

/** What build.mjs asks for. */
export interface TrainingRequest {
  /** The target's name (targets.mjs). */
  target: string;
  /** The Node binary that goes into the executable. */
  node: string;
  /** The executable's V8/Node flags (build.mjs, targetExecArgv). */
  execArgv: string[];
  /** The app's bundle, as the executable's asset holds it. */
  bundle: string;
  /** Where to write the cache. */
  out: string;
}

/** How long a training run may take before it counts as failed (a start takes 1-3 s). */
const TRAINING_TIMEOUT_MS = 60_000;
const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '../..');
/** The node the app runs as. */
const NODE_NAME = 'code-cache-training';
/** The image of the kubelet's static pod, which the fake runtime has. */
const IMAGE = 'localhost/nodeagent/busybox:1.0';

type FakeRuntimeModule = {
  FakeRuntime: {
    start(o: { images: { ref: string }[] }): Promise<{ endpoint: string; stop(): Promise<void> }>;
  };
};

/** Runs the trainee and resolves once it wrote the cache; rejects with its stderr otherwise. */
function trainee(
  start: (args: string[]) => ChildProcess,
  req: TrainingRequest,
  event: string,
  settleMs: number,
  appArgs: string[],
) {
  const child = start([
    ...req.execArgv,
    join(here, 'code-cache-trainee.cjs'),
    req.bundle,
    req.out,
    event,
    String(settleMs),
    '--',
    ...appArgs,
  ]);
  let tail = '';
  child.stderr?.on('data', (b: Buffer) => {
    tail = (tail + b.toString()).slice(-4000);
  });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), TRAINING_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(req.out)) resolve();
      else
        reject(
          new Error(`the ${req.target} training run ended (${code ?? signal}) without a cache:\n${tail}`),
        );
    });
  });
}

/** A loopback port nothing listens on now (the kubelet's server; upstream refuses port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The kubelet's home: kubeconfig, a configuration naming staticPodPath, one static pod. */
function kubeletHome(api: ApiServer, dir: string): string {
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  api.writeKubeconfig(join(dir, 'kubeconfig'));
  // makeIPTablesUtilChains false: one training start runs on the build machine's network, whose
  // iptables it must leave alone.
  writeFileSync(
    join(dir, 'config.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodLogsDir: ${join(dir, 'logs')}\nvolumePluginDir: ${join(dir, 'volume-plugins')}\naddress: 127.0.0.1\nstaticPodPath: ${manifests}\nmakeIPTablesUtilChains: false\n`,
  );
  writeFileSync(
    join(manifests, 'static.yaml'),
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\n  namespace: kube-system\nspec:\n  containers:\n  - name: app\n    image: ${IMAGE}\n    command: [sh, -c, sleep 3600]\n`,
  );
  return dir;
}

async function trainKubelet(req: TrainingRequest, dir: string): Promise<void> {
  // By path, not by package name: tools/ imports none of the packages the apps deploy (README.md, "Tests").
  const { FakeRuntime } = (await import(
    join(repoRoot, 'packages/cri-client/src/testing/index.ts')
  )) as FakeRuntimeModule;
  const api = await startApiServer({ tls: true });
  const fake = await FakeRuntime.start({ images: [{ ref: IMAGE }] });
  try {
    const home = kubeletHome(api, dir);
    const args = [
      `--config=${join(home, 'config.yaml')}`,
      `--kubeconfig=${join(home, 'kubeconfig')}`,
      `--hostname-override=${NODE_NAME}`,
      '--node-ip=127.0.0.1',
      `--root-dir=${join(home, 'root')}`,
      `--cert-dir=${join(home, 'pki')}`,
      `--container-runtime-endpoint=${fake.endpoint}`,
      // No fixed port: the server on a free loopback port, no healthz server.
      `--port=${await freePort()}`,
      '--healthz-port=0',
      // The host's cgroups left alone, as the start-up bench does.
      '--cgroups-per-qos=false',
      '--enforce-node-allocatable=',
      '--fail-cgroupv1=false',
    ];
    // The kernel tunables read from upstream's values in the repository, never the host's
    // /proc/sys: as root the kubelet would rewrite the build machine's, as nobody fail to.
    const env = {
      ...process.env,
      NODEAGENT_KUBELET_SYSCTL_ROOT: join(repoRoot, 'apps/kubelet/test/fixtures/proc-sys-upstream'),
    };
    const start = (a: string[]) => spawn(req.node, a, { stdio: ['ignore', 'ignore', 'pipe'], env });
    await trainee(start, req, 'nodeagent:started', 2000, args);
  } finally {
    await fake.stop();
    await api.close();
  }
}

async function trainKubeProxy(req: TrainingRequest, dir: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('kube-proxy trains in a network namespace, which needs root');
  const api = await startApiServer({ tls: true });
  addServiceCluster(api, { services: 20, endpointsPerService: 5 });
  // kube-proxy reads its host IPs from its Node at start, and waits ~31 s for them without one.
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME },
    // TEST-NET-1: nothing routes to it; the proxy only writes it into rules.
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] },
  });
  const ns = await createNetns({ purpose: 'kpcache' });
  try {
    const port = Number(new URL(api.url).port);
    // The same port inside the namespace, so the kubeconfig (and the certificate) fit as written.
    const bridge = await bridgeIntoNetns(ns, port, port);
    try {
      api.writeKubeconfig(join(dir, 'kubeconfig'));
      const args = [
        `--kubeconfig=${join(dir, 'kubeconfig')}`,
        `--hostname-override=${NODE_NAME}`,
        '--proxy-mode=nftables',
        '--cluster-cidr=10.128.0.0/9',
        '--healthz-bind-address=127.0.0.1:10256',
        '--metrics-bind-address=127.0.0.1:10249',
        // nf_conntrack_max and the conntrack hash size are the host's, whatever the namespace.
        '--conntrack-max-per-core=0',
      ];
      const start = (a: string[]) => ns.spawn(req.node, a, { stdio: ['ignore', 'ignore', 'pipe'] });
      await trainee(start, req, 'nodeagent:burst-ended', 1000, args);
    } finally {
      await bridge.close();
    }
  } finally {
    await ns.delete();
    await api.close();
  }
}

/** Trains `req.target`'s cache into `req.out`. */
export async function trainCodeCache(req: TrainingRequest): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `na-code-cache-${process.pid}-`));
  try {
    if (req.target === 'nodeagent-kubelet') await trainKubelet(req, dir);
    else if (req.target === 'nodeagent-kube-proxy') await trainKubeProxy(req, dir);
    else throw new Error(`no training run for ${req.target}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  trainCodeCache(JSON.parse(process.argv[2] ?? '{}') as TrainingRequest).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
