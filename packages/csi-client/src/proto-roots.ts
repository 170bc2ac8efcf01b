import Long from 'long';
import protobuf from 'protobufjs';
import { csiV1Descriptor } from './generated/csi-v1-descriptor';

let configured = false;
const roots = new Map<string, protobuf.Root>();

/**
 * protobufjs finds `long` through a dynamic require that bundlers hide; without it int64 fields
 * (max_volumes_per_node, capacity_bytes) lose precision. A function, not a module side effect: the
 * package is marked free of side effects.
 */
function configure(): void {
  if (configured) return;
  protobuf.util.Long = Long;
  protobuf.configure();
  configured = true;
}

function rootOf(key: string, descriptor: unknown): protobuf.Root {
  let root = roots.get(key);
  if (!root) {
    configure();
    root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
    root.resolveAll();
    roots.set(key, root);
  }
  return root;
}

/** The CSI spec v1 messages and services (package `csi.v1`), built once. */
export function csiV1Root(): protobuf.Root {
  return rootOf('csi.v1', csiV1Descriptor);
}
