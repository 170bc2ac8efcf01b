/**
 * What a kubelet's start pays for the runtime.v1 codecs (issue #51): the root from the JSON
 * descriptor, then every message type reachable from the RPCs a kubelet calls in its first
 * seconds set up and each of its four functions run once, so V8 compiles them. Prints the CPU
 * milliseconds of that work and of the whole process. NA_CODEC_SETUP says how: `light` (the
 * default, the client's own: src/message-type.ts, the generated functions without protobufjs's
 * reflection), `precompiled` (the reflection root from the JSON descriptor, its types given the
 * generated functions: the client before issue #51's change) or `protobufjs` (the reflection root,
 * code generated and compiled with `new Function`). Run each mode in its own
 * process, bundled and on the executables' Node, e.g. (see the package README):
 *   esbuild --bundle --platform=node --format=cjs --conditions=@nodeagent/source \
 *     packages/cri-client/bench/codec-setup.bench.ts --outfile=/tmp/codec-setup.cjs
 *   node /tmp/codec-setup.cjs; NA_CODEC_SETUP=precompiled node /tmp/codec-setup.cjs
 */
import protobuf from 'protobufjs';
import { codecFunctions } from '../src/generated/codec-functions';
import { runtimeV1Descriptor } from '../src/generated/descriptor';
import { criMethods } from '../src/generated/methods';
import { messageType } from '../src/message-type';
import { usePrecompiledCodecs } from '../src/precompiled-codecs';
import { protobufRuntime } from '../src/protobuf-runtime';

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

/** The full names of the message types reachable from `name` (the generated field lists). */
function reachable(name: string, seen: Set<string>): void {
  if (seen.has(name) || !codecFunctions[name]) return;
  seen.add(name);
  for (const f of codecFunctions[name].fields) reachable(f.type, seen);
}

interface Codec {
  encode(m: object): protobuf.Writer;
  decode(b: Uint8Array): object;
  fromObject(v: object): object;
  toObject(m: object, o: protobuf.IConversionOptions): object;
}

/** Each type by full name, as the mode makes it. */
function typesOf(mode: string): (name: string) => Codec {
  if (mode === 'light') return messageType;
  protobufRuntime();
  const root = protobuf.Root.fromJSON(runtimeV1Descriptor as unknown as protobuf.INamespace);
  root.resolveAll();
  if (mode !== 'protobufjs') usePrecompiledCodecs(root, codecFunctions);
  return (name) => root.lookupType(name);
}

const names = new Set<string>();
for (const m of criMethods)
  if (STARTUP_RPCS.has(m.name))
    for (const name of [m.requestType, m.responseType]) reachable(`runtime.v1.${name}`, names);
const mode = process.env.NA_CODEC_SETUP ?? 'light';
const start = process.cpuUsage();
const typeOf = typesOf(mode);
for (const name of names) {
  const t = typeOf(name);
  t.toObject(t.decode(t.encode(t.fromObject({})).finish()), {
    defaults: true,
    longs: BigInt as unknown as typeof Number,
  });
}
const used = process.cpuUsage(start);
const total = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ mode, types: names.size, cpuMs: Math.round((used.user + used.system) / 1000), processCpuMs: Math.round((total.user + total.system) / 1000) })}\n`,
);
