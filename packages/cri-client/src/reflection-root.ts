import protobuf from 'protobufjs';
import { codecFunctions } from './generated/codec-functions';
import { runtimeV1Descriptor } from './generated/descriptor';
import { usePrecompiledCodecs } from './precompiled-codecs';
import { protobufRuntime } from './protobuf-runtime';

let root: protobuf.Root | undefined;

/**
 * The runtime.v1 protobufjs root, built once from the generated JSON descriptor, its types'
 * codecs the functions generated at build time (see precompiled-codecs.ts). The client's own
 * codecs do without it (message-type.ts); it is for callers that want protobufjs's reflection
 * (field lists, `verify`), and for tests that compare the two.
 */
export function runtimeV1Root(): protobuf.Root {
  if (!root) {
    protobufRuntime();
    root = protobuf.Root.fromJSON(runtimeV1Descriptor as unknown as protobuf.INamespace);
    root.resolveAll();
    usePrecompiledCodecs(root, codecFunctions);
  }
  return root;
}
