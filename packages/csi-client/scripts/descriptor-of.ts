import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));

/**
 * The protobufjs JSON descriptor of one .proto file: its own package plus the well-known types it
 * uses (Timestamp, wrappers). csi.proto's `extend google.protobuf.*Options` fields (alpha_field,
 * csi_secret...) are left out: they annotate the .proto for code generators and never reach the
 * wire, and keeping them would drag in all of descriptor.proto.
 */
export function descriptorOf(protoPath: string): protobuf.INamespace {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) =>
    target.startsWith('google/protobuf/')
      ? join(protobufjsDir, target)
      : protobuf.util.path.resolve(origin, target);
  root.loadSync(protoPath, { keepCase: false });
  root.resolveAll();
  const json = root.toJSON({ keepComments: false }) as { nested: Record<string, protobuf.AnyNestedObject> };
  const google = json.nested.google as
    | { nested: { protobuf: { nested: Record<string, unknown> } } }
    | undefined;
  if (google) {
    const used = ['Timestamp', 'BoolValue', 'Int64Value'];
    const all = google.nested.protobuf.nested;
    google.nested.protobuf.nested = Object.fromEntries(used.filter((n) => n in all).map((n) => [n, all[n]]));
  }
  stripExtensions(json);
  return json as protobuf.INamespace;
}

function stripExtensions(ns: { nested?: Record<string, unknown> }): void {
  if (!ns.nested) return;
  for (const [name, child] of Object.entries(ns.nested)) {
    const c = child as { extend?: string; nested?: Record<string, unknown> };
    if (typeof c.extend === 'string') delete ns.nested[name];
    else stripExtensions(c);
  }
}
