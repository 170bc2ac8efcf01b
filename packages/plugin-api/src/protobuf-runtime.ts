import Long from 'long';
import protobuf from 'protobufjs/minimal.js';

let configured = false;

/**
 * protobufjs's minimal runtime with `long` wired up, once: protobufjs finds `long` through a
 * dynamic require that bundlers hide, and without it int64 fields (cpu_ids,
 * last_updated_time) lose precision. A function, not a module side effect: the package is marked
 * free of side effects.
 */
export function protobufRuntime(): typeof protobuf {
  if (!configured) {
    protobuf.util.Long = Long;
    protobuf.configure();
    configured = true;
  }
  return protobuf;
}
