// `npm run bench -- csi` (or `npm run bench -w @nodeagent/csi-client`): the per-call cost of
// CsiNodeClient against a raw @grpc/grpc-js unary call of the same RPC, with the same codec, on
// the same unix socket, for NodeGetCapabilities (the call the kubelet makes most: one per question
// before each stage and publish) and NodePublishVolume (a full request). Target: overhead ≤ 1.1×.
// Results: bench-results/csi-client.json at the repository root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { Bench } from 'tinybench';
import { CsiNodeClient, csiServiceDefinition, servePlugin } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, '..', '..', '..', 'bench-results', 'csi-client.json');

type Unary = () => Promise<unknown>;

const publishRequest = {
  volumeId: '2c5a336b-ebf2-11f1-845d-566c7419322e',
  stagingTargetPath: '/var/lib/kubelet/plugins/kubernetes.io/csi/hostpath.csi.k8s.io/6a82/globalmount',
  targetPath:
    '/var/lib/kubelet/pods/7f3bd919-ed22-48a8-b9da-2476b718c3be/volumes/kubernetes.io~csi/pvc-1/mount',
  volumeCapability: { accessMode: { mode: 'SINGLE_NODE_MULTI_WRITER' as const }, mount: {} },
  volumeContext: {
    'csi.storage.k8s.io/ephemeral': 'false',
    'csi.storage.k8s.io/pod.name': 'bench',
    'csi.storage.k8s.io/pod.namespace': 'default',
    'csi.storage.k8s.io/pod.uid': '7f3bd919-ed22-48a8-b9da-2476b718c3be',
    'csi.storage.k8s.io/serviceAccount.name': 'default',
  },
};

async function comparePair(name: string, raw: Unary, client: Unary, timeMs: number) {
  // Alternate raw and client rounds and keep each side's best: the cores are shared.
  const rounds = 4;
  const bench = new Bench({ time: timeMs / rounds, warmupTime: 100 });
  for (let r = 1; r <= rounds; r++) {
    if (r % 2 === 1) bench.add(`${name} raw#${r}`, raw).add(`${name} client#${r}`, client);
    else bench.add(`${name} client#${r}`, client).add(`${name} raw#${r}`, raw);
  }
  await bench.run();
  const ops = (label: string) =>
    Math.max(
      ...bench.tasks
        .filter((t) => t.name.startsWith(`${name} ${label}#`))
        .map((t) => (t.result.state === 'completed' ? t.result.throughput.mean : 0)),
    );
  const rawOps = ops('raw');
  const clientOps = ops('client');
  return { rpc: name, rawOpsPerSec: rawOps, clientOpsPerSec: clientOps, overheadRatio: rawOps / clientOps };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'na-csi-bench-'));
  const node = csiServiceDefinition('Node');
  const server = await servePlugin(join(dir, 'csi.sock'), [
    {
      definition: node,
      implementation: {
        NodeGetCapabilities: (_c: unknown, done: (e: null, v: object) => void) =>
          done(null, {
            capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }, { rpc: { type: 'GET_VOLUME_STATS' } }],
          }),
        NodePublishVolume: (_c: unknown, done: (e: null, v: object) => void) => done(null, {}),
      },
    },
  ]);
  const endpoint = `unix://${server.socketPath}`;
  const csi = new CsiNodeClient({ endpoint });
  const raw = new Client(endpoint, credentials.createInsecure());
  const rawCall = (rpc: 'NodeGetCapabilities' | 'NodePublishVolume', request: object): Unary => {
    const m = node[rpc];
    if (!m) throw new Error(`no method ${rpc}`);
    return () =>
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          request,
          new Metadata(),
          { deadline: Date.now() + 120_000 },
          (err, value) => (err ? reject(err) : resolve(value)),
        ),
      );
  };
  try {
    const pairs = [
      await comparePair(
        'NodeGetCapabilities',
        rawCall('NodeGetCapabilities', {}),
        () => csi.nodeGetCapabilities(),
        3000,
      ),
      await comparePair(
        'NodePublishVolume',
        rawCall('NodePublishVolume', publishRequest),
        () => csi.nodePublishVolume(publishRequest),
        3000,
      ),
    ];
    const results = { package: '@nodeagent/csi-client', pairs };
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    csi.close();
    raw.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
