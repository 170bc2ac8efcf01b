import Long from 'long';
import protobuf from 'protobufjs/minimal.js';

let configured = false;

/**
 * protobufjs's runtime (Reader, Writer, util) with `long` wired up, once. protobufjs finds `long`
 * through a dynamic require that bundlers and vitest's module runner hide; without it 64-bit
 * fields silently lose bigint input and precision. A function rather than a module side effect:
 * the package is marked free of side effects, so a bundler may drop an import used only for one.
 */
export function protobufRuntime(): typeof protobuf {
  if (!configured) {
    protobuf.util.Long = Long;
    protobuf.configure();
    configured = true;
  }
  return protobuf;
}
