// `npm run bench -w @nodeagent/cri-client`
// 1. Per-call overhead of CriClient against a raw @grpc/grpc-js unary call of the same RPC, with
//    the same protobuf codec, on the same socket (target: ≤ 1.1×).
// 2. ListContainers throughput with 500 containers (fake runtime) and 30 (real containerd, when
//    this runs as root with containerd installed).
// Results: /work/main/bench-results/cri-client.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { Bench } from 'tinybench';
import { type CriClient, createCriClient } from '../src/index';
import { FakeRuntime } from '../src/testing/index';
import { messageCodec } from '../src/types/index';

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, '..', '..', '..', 'bench-results', 'cri-client.json');
const BUSYBOX = 'localhost/nodeagent/busybox:1.0';

type Unary = () => Promise<unknown>;

/** A raw grpc-js unary call: the baseline the client is measured against. */
function rawUnary(
  endpoint: string,
  service: string,
  rpc: string,
  reqType: string,
  resType: string,
  request: object,
) {
  const client = new Client(endpoint, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  const req = messageCodec(reqType as never);
  const res = messageCodec(resType as never);
  const path = `/runtime.v1.${service}/${rpc}`;
  const call: Unary = () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        path,
        (v: object) => req.encode(v as never),
        (b: Buffer) => res.decode(b),
        request,
        new Metadata(),
        { deadline: Date.now() + 120_000 },
        (err, value) => (err ? reject(err) : resolve(value)),
      ),
    );
  return { call, close: () => client.close() };
}

interface PairResult {
  rpc: string;
  rawOpsPerSec: number;
  clientOpsPerSec: number;
  /** client latency / raw latency; ≤ 1.1 is the target. */
  overheadRatio: number;
}

async function comparePair(name: string, raw: Unary, client: Unary, timeMs: number): Promise<PairResult> {
  // Alternate raw and client runs several times and keep each side's best: the cores are shared
  // with other work, so any single run can be hit by a burst of load.
  const rounds = 4;
  const bench = new Bench({ time: timeMs / rounds, warmupTime: 100 });
  // Swap the order every round so neither side always pays the other's GC debt.
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

async function seed(cri: CriClient, count: number, start: boolean): Promise<void> {
  const sandboxConfig = {
    metadata: { name: `bench-${count}`, uid: `bench-${process.pid}`, namespace: 'bench' },
  };
  const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
  for (let i = 0; i < count; i++) {
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig,
      config: {
        metadata: { name: `c${i}` },
        image: { image: BUSYBOX },
        command: ['sleep', 'infinity'],
        labels: { 'bench/index': String(i), app: 'bench' },
        annotations: { 'bench/purpose': 'ListContainers throughput' },
      },
    });
    if (start) await cri.startContainer({ containerId });
  }
}

async function benchRuntime(endpoint: string, containers: number, timeMs: number) {
  const cri = await createCriClient({ endpoint });
  await seed(cri, containers, true);
  const version = rawUnary(endpoint, 'RuntimeService', 'Version', 'VersionRequest', 'VersionResponse', {
    version: '0.1.0',
  });
  const list = rawUnary(
    endpoint,
    'RuntimeService',
    'ListContainers',
    'ListContainersRequest',
    'ListContainersResponse',
    {},
  );
  try {
    const versionPair = await comparePair('Version', version.call, () => cri.version(), timeMs);
    const listPair = await comparePair('ListContainers', list.call, () => cri.listContainers(), timeMs);
    const listed = (await cri.listContainers()).containers.length;
    return {
      containers: listed,
      pairs: [versionPair, listPair],
      listContainersCallsPerSec: listPair.clientOpsPerSec,
    };
  } finally {
    version.close();
    list.close();
    cri.close();
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    package: '@nodeagent/cri-client',
    date: new Date().toISOString(),
    // Ratios are only as good as the machine is quiet: record how busy it was.
    loadAverageAtStart: loadavg(),
  };

  const fake = await FakeRuntime.start({ images: [{ ref: BUSYBOX, cmd: ['sh'] }] });
  try {
    results.fake = await benchRuntime(fake.endpoint, 500, 3000);
  } finally {
    await fake.stop();
  }

  if (process.getuid?.() === 0) {
    const toolsContainerd = fileURLToPath(
      new URL('../../../tools/containerd/containerd.ts', import.meta.url),
    );
    const { startContainerd } = (await import(toolsContainerd)) as {
      startContainerd: () => Promise<{ endpoint: string; stop(): Promise<void> }>;
    };
    const c = await startContainerd();
    try {
      results.containerd = await benchRuntime(c.endpoint, 30, 3000);
    } finally {
      await c.stop();
    }
  } else {
    results.containerd = { skipped: 'needs root to start a private containerd' };
  }

  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
