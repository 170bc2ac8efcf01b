/*
 * CPU cost of decoding kube-proxy's start-up stream: the scale bench's 5,000 EndpointSlices of
 * 50 endpoints as watch events, JSON.parse of their JSON lines against the protobuf decoder
 * over their frames (with and without leaving out targetRef and managedFields), in one process,
 * alternating, several rounds: process CPU (GC threads included) and wall time. Not a test (no assertions on time); run with
 *   node --expose-gc --import tsx --conditions=@nodeagent/source \
 *     packages/informer/test/protobuf-decode-bench.ts [rounds] [json,protobuf,omitted]
 */
import { isDeepStrictEqual } from 'node:util';
import { FrameReader } from '../src/protobuf/frame-reader';
import { decodeFlags } from '../src/protobuf/omit';
import { decodeWatchEvent } from '../src/protobuf/watch-event';
import { encode, envelope, jsonToProto, T, watchFrame } from './protobuf-fixtures';

/** kube-proxy's scale bench (another project: loaded at run time, outside this package's type check). */
const SCALE_CLUSTER = '../../../apps/kube-proxy/bench/scale-cluster.ts';
const { endpointSlice, initialAddresses } = (await import(SCALE_CLUSTER)) as {
  endpointSlice(
    i: number,
    addresses: readonly string[],
  ): { kind: string; apiVersion: string } & Record<string, unknown>;
  initialAddresses(i: number, endpoints: number): string[];
};

const SLICES = 5000;
const CHUNK = 64 * 1024;
const rounds = Number(process.argv[2] ?? 5);
/** Only these runs (comma-separated names), e.g. `protobuf` under --cpu-prof. */
const only = process.argv[3]?.split(',');

const lines: string[] = [];
const frames: Buffer[] = [];
for (let i = 0; i < SLICES; i++) {
  const slice = endpointSlice(i, initialAddresses(i, 50));
  lines.push(JSON.stringify({ type: 'ADDED', object: slice }));
  const { kind, apiVersion, ...rest } = slice;
  const proto = jsonToProto('', rest) as Record<string, unknown>;
  frames.push(watchFrame('ADDED', envelope(apiVersion, kind, encode(T.slice, proto))));
}
const stream = Buffer.concat(frames);
const chunks: Buffer[] = [];
for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));
const jsonBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function decodeAll(omit: string[]): unknown[] {
  const flags = decodeFlags(omit);
  const out: unknown[] = [];
  const reader = new FrameReader();
  for (const chunk of chunks)
    reader.push(chunk, (buf, start, end) => {
      out.push(decodeWatchEvent(buf, start, end, flags));
      return true;
    });
  return out;
}

function parseAll(): unknown[] {
  return lines.map((l) => JSON.parse(l));
}

const first = decodeAll([]);
if (first.length !== SLICES || !isDeepStrictEqual(first[7], parseAll()[7]))
  throw new Error('the protobuf decode differs from the JSON');

const runs = {
  json: parseAll,
  protobuf: () => decodeAll([]),
  omitted: () => decodeAll(['endpoints.targetRef', 'metadata.managedFields']),
};
const results: Record<string, number[]> = { json: [], protobuf: [], omitted: [] };
const wall: Record<string, number[]> = { json: [], protobuf: [], omitted: [] };
/** With --expose-gc, each run starts on a collected heap: the last run's garbage is not billed to it. */
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(runs)) {
    if (only && !only.includes(name)) continue;
    collect();
    const t = cpuMs();
    const w = performance.now();
    const kept = run();
    wall[name]!.push(Math.round(performance.now() - w));
    results[name]!.push(Math.round(cpuMs() - t));
    if (kept.length !== SLICES) throw new Error('lost events');
  }
}
console.log(
  JSON.stringify({
    node: process.version,
    slices: SLICES,
    jsonMB: +(jsonBytes / 1e6).toFixed(1),
    protobufMB: +(stream.length / 1e6).toFixed(1),
    cpuMs: results,
    wallMs: wall,
  }),
);
