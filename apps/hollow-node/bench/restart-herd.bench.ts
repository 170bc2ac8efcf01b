/**
 * What one API server pays when every node's kube-proxy restarts at once (issue #54: "1,000 nodes
 * restarting kube-proxy at once is something we can state, not guess"). The bundled
 * nodeagent-hollow-node runs NA_HERD_NODES (default 1,000) nodes with only their kube-proxy half
 * (`--morph proxy`: the real proxier, change trackers and informers, writing to a fake iptables)
 * against the in-process API server of @nodeagent/testing over HTTP, in this process, holding
 * NA_HERD_SERVICES Services (default 100) of NA_HERD_ENDPOINTS ready endpoints each (default 10;
 * the kube-proxy scale bench's objects, managedFields included). Once every node is up, one
 * restart wave of all of them (`--restart-percent 100`): each stops its kube-proxy and starts a
 * new one, whose informers stream their whole state again at the same moment.
 *
 * Reported for the wave, from the hollow process's own report: seconds until every new
 * kube-proxy had sent its watches again and until every one had finished a sync that wrote its
 * rules; the requests the restarted nodes sent; and, measured here, the API server's CPU seconds
 * (this process's: the server and the byte counting run in it) and the bytes it wrote to the
 * nodes' sockets from the wave's start until the last proxy had synced, in total and per node.
 * NA_HERD_SIZES runs several shapes in turn ("1000x100x10,100x1000x10": nodes x Services x
 * endpoints). NA_HERD_WORKERS is the hollow process's --workers (unset: one a core);
 * NA_HERD_CONTENT_TYPE its --kube-api-content-type (unset: protobuf, upstream's default). Results:
 * bench-results/hollow-node-restart.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '@nodeagent/testing';
import { populateCluster } from '../../kube-proxy/bench/scale-cluster';
import { RequestCounter } from '../src/request-counter';
import { type RestartWaveReport, watchesSent } from '../src/restart-waves';
import { runBundled } from './bundled-runs';

const workers = process.env.NA_HERD_WORKERS;
const contentType = process.env.NA_HERD_CONTENT_TYPE;
/** How often the server's CPU and bytes are read: the wave's window is cut from these readings. */
const SAMPLE_MS = 100;
/** Each proxy's watches: Services, EndpointSlices and its own Node. */
const WATCHES_PER_PROXY = 3;

interface Shape {
  nodes: number;
  services: number;
  endpoints: number;
}

function shapes(): Shape[] {
  const env = process.env;
  const one = `${env.NA_HERD_NODES ?? 1000}x${env.NA_HERD_SERVICES ?? 100}x${env.NA_HERD_ENDPOINTS ?? 10}`;
  return (env.NA_HERD_SIZES ?? one).split(',').map((text) => {
    const [nodes, services, endpoints] = text.split('x').map(Number);
    if (![nodes, services, endpoints].every((n) => Number.isInteger(n) && (n as number) > 0))
      throw new Error(`NA_HERD_SIZES: "${text}" is not <nodes>x<services>x<endpoints>`);
    return { nodes, services, endpoints } as Shape;
  });
}

/**
 * One reading of what the server has used: CPU seconds of this process, bytes written to the
 * nodes, and the watches the nodes had sent (the wave's first new watch marks its start).
 */
interface Sample {
  atMs: number;
  cpuSeconds: number;
  bytesSent: number;
  watches: number;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The readings around the wave, as this process saw it: from the last one before the first new
 * watch arrived to the first one `syncedMs` after that (the new proxies synced only once the
 * server had sent them the whole state). Read off the server's own clock: the hollow process's
 * report times its wave from its own start, and the report comes only after its nodes stopped,
 * which takes seconds at this size.
 */
function waveWindow(samples: readonly Sample[], watchesBefore: number, syncedMs: number): [Sample, Sample] {
  const first = samples.findIndex((s) => s.watches > watchesBefore);
  if (first < 1) throw new Error('restart-herd bench: no reading before and after the wave began');
  const endMs = (samples[first] as Sample).atMs + syncedMs + SAMPLE_MS;
  const to = samples.find((s) => s.atMs >= endMs) ?? (samples.at(-1) as Sample);
  return [samples[first - 1] as Sample, to];
}

/** Resolves when `check` is true, polling; rejects after `limitMs` naming `what`. */
async function until(check: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`restart-herd bench: ${what} not within ${limitMs / 1000} s`);
    await sleep(SAMPLE_MS);
  }
}

async function measure(cli: string, shape: Shape) {
  const api = await startApiServer();
  const dir = mkdtempSync(join(tmpdir(), `na-herd-bench-${process.pid}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig);
  populateCluster(api, shape.services, shape.endpoints);
  const names = Array.from({ length: shape.nodes }, (_, i) => `hollow-node-${i}`);
  const counter = new RequestCounter(names, api, 'others');
  counter.start();
  // Every node's watches sent so far, as the restart waves count them.
  const allWatchesSent = () => names.reduce((sum, name) => sum + watchesSent(counter, name), 0);
  const bytesSent = () => {
    let sent = 0;
    for (const name of names) sent += counter.perNode.get(name)?.sockets.totals().sent ?? 0;
    return sent;
  };
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const cpu = process.cpuUsage();
    samples.push({
      atMs: Date.now(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      bytesSent: bytesSent(),
      watches: allWatchesSent(),
    });
  }, SAMPLE_MS);
  let child: ChildProcess | undefined;
  let stdout = '';
  try {
    const load = loadavg()[0] as number;
    const spawnedAt = Date.now();
    const workerFlag = workers === undefined ? [] : ['--workers', workers];
    const contentTypeFlag = contentType === undefined ? [] : ['--kube-api-content-type', contentType];
    child = spawn(
      process.execPath,
      [
        cli,
        '--kubeconfig',
        kubeconfig,
        '--nodes',
        String(shape.nodes),
        '--morph',
        'proxy',
        '--restart-every',
        '5s',
        '--restart-percent',
        '100',
        ...workerFlag,
        ...contentTypeFlag,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk));
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    await until(() => allWatchesSent() >= shape.nodes * WATCHES_PER_PROXY, 600_000, 'every node up');
    const upSeconds = (Date.now() - spawnedAt) / 1000;
    // A node's start may send more than its three (a watch the stream ended is sent again): the
    // count once it has held still for a second, well inside the 5 s before the first wave.
    let settled = allWatchesSent();
    for (let still = 0; still < 1000; still += SAMPLE_MS) {
      await sleep(SAMPLE_MS);
      if (allWatchesSent() !== settled) [settled, still] = [allWatchesSent(), 0];
    }
    // The first wave has begun once a node watches again; SIGTERM then ends the run after it.
    await until(() => allWatchesSent() > settled, 600_000, 'the restart wave');
    child.kill('SIGTERM');
    await exited;
    const report = JSON.parse(stdout) as { elapsedSeconds: number; restartWaves: RestartWaveReport[] };
    const wave = report.restartWaves[0];
    if (!wave || wave.secondsToProxiesSynced == null)
      throw new Error(`restart-herd bench: the wave did not complete: ${JSON.stringify(wave)}`);
    const [from, to] = waveWindow(samples, settled, wave.secondsToProxiesSynced * 1000);
    const serverCpu = to.cpuSeconds - from.cpuSeconds;
    const bytes = to.bytesSent - from.bytesSent;
    const result = {
      ...shape,
      workers: workers ?? 'default',
      contentType: contentType ?? 'application/vnd.kubernetes.protobuf',
      loadAverage: round(load, 1),
      secondsToAllUp: round(upSeconds, 1),
      wave: {
        nodes: wave.nodes.length,
        secondsToWatchesBack: wave.secondsToWatchesBack,
        secondsToProxiesSynced: wave.secondsToProxiesSynced,
        requests: wave.restarted,
        apiServerCpuSeconds: round(serverCpu, 2),
        apiServerBytesSent: bytes,
      },
      perRestartedNode: {
        apiServerCpuMs: round((serverCpu * 1000) / wave.nodes.length, 2),
        bytesSent: Math.round(bytes / wave.nodes.length),
      },
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    clearInterval(sampler);
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    counter.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runBundled('hollow-node-restart', shapes(), measure);
