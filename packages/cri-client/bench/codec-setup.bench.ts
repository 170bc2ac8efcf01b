/**
 * What a kubelet's start pays for the runtime.v1 codecs (issue #51): the root from the JSON
 * descriptor, then every message type reachable from the RPCs a kubelet calls in its first
 * seconds set up and each of its four functions run once, so V8 compiles them. Prints the CPU
 * milliseconds of that work and of the whole process. With NA_CODEC_SETUP=protobufjs the types
 * keep protobufjs's own setup (code generated and compiled with `new Function`); otherwise the
 * functions generated at build time (src/generated/codec-functions.ts). Run each mode in its own
 * process, bundled and on the executables' Node, e.g. (see the package README):
 *   esbuild --bundle --platform=node --format=cjs --conditions=@nodeagent/source \
 *     packages/cri-client/bench/codec-setup.bench.ts --outfile=/tmp/codec-setup.cjs
 *   node /tmp/codec-setup.cjs; NA_CODEC_SETUP=protobufjs node /tmp/codec-setup.cjs
 */
import protobuf from 'protobufjs';
import { codecFunctions } from '../src/generated/codec-functions';
import { runtimeV1Descriptor } from '../src/generated/descriptor';
import { criMethods } from '../src/generated/methods';
import { usePrecompiledCodecs } from '../src/precompiled-codecs';

/** The RPCs a kubelet made in the first 10 s of the start-up bench (a static pod on containerd). */
const STARTUP_RPCS = new Set([
  'Version',
  'Status',
  'RuntimeConfig',
  'UpdateRuntimeConfig',
  'ListPodSandbox',
  'ListContainers',
  'ListImages',
  'ImageFsInfo',
  'ListContainerStats',
  'ListPodSandboxStats',
  'RunPodSandbox',
  'PodSandboxStatus',
  'PullImage',
  'ImageStatus',
  'CreateContainer',
  'StartContainer',
  'ContainerStatus',
]);

function reachable(t: protobuf.Type, seen: Set<protobuf.Type>): void {
  if (seen.has(t)) return;
  seen.add(t);
  for (const f of t.fieldsArray)
    if (f.resolve().resolvedType instanceof protobuf.Type) reachable(f.resolvedType as protobuf.Type, seen);
}

const start = process.cpuUsage();
const root = protobuf.Root.fromJSON(runtimeV1Descriptor as unknown as protobuf.INamespace);
root.resolveAll();
if (process.env.NA_CODEC_SETUP !== 'protobufjs') usePrecompiledCodecs(root, codecFunctions);
const types = new Set<protobuf.Type>();
for (const m of criMethods)
  if (STARTUP_RPCS.has(m.name))
    for (const name of [m.requestType, m.responseType])
      reachable(root.lookupType(`runtime.v1.${name}`), types);
for (const t of types)
  t.toObject(t.decode(t.encode(t.fromObject({})).finish()), {
    defaults: true,
    longs: BigInt as unknown as typeof Number,
  });
const used = process.cpuUsage(start);
const total = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ mode: process.env.NA_CODEC_SETUP ?? 'precompiled', types: types.size, cpuMs: Math.round((used.user + used.system) / 1000), processCpuMs: Math.round((total.user + total.system) / 1000) })}\n`,
);
