import protobuf from 'protobufjs';

type Fn = (...args: never[]) => unknown;

/** One field of a message type, as protobufjs's reflection resolves it. */
export interface FieldInfo {
  readonly name: string;
  readonly id: number;
  /** A message's or enum's full name (e.g. `runtime.v1.Protocol`), else the scalar type (`string`). */
  readonly type: string;
  readonly repeated?: boolean;
  /** Set for a map field: the key's scalar type (`type` is then the value's). */
  readonly keyType?: string;
}

/** One message type's functions as protobufjs generates them, each behind a factory taking its scope. */
export interface PrecompiledCodec {
  /** Its fields in protobufjs's order: the `types` its functions index are theirs, in this order. */
  fields: readonly FieldInfo[];
  ctor(): Fn;
  encode(writer: typeof protobuf.Writer, types: unknown[], util: typeof protobuf.util): Fn;
  decode(reader: typeof protobuf.Reader, types: unknown[], util: typeof protobuf.util, ctor: unknown): Fn;
  fromObject(types: unknown[], util: typeof protobuf.util, ctor: unknown): Fn;
  toObject(types: unknown[], util: typeof protobuf.util): Fn;
}
/** By full name without the leading dot, e.g. `runtime.v1.VersionRequest`. */
export type PrecompiledCodecs = Record<string, PrecompiledCodec>;

/** protobufjs's verify generator, exported by the package but not in its typings. */
interface Verifier {
  verifier(t: protobuf.Type): (scope: object) => protobuf.Type['verify'];
}

/** The parts of protobufjs's Type that its setup touches and the typings leave out. */
interface TypeInternals {
  _ctor: unknown;
  _needsRecursiveFeatureResolution?: boolean;
  _edition?: string;
  _resolveFeaturesRecursive(edition: string): void;
}

/**
 * Gives every message type of `ns` that `codecs` holds a setup that installs the functions
 * generated at build time (scripts/generate-codecs.ts) instead of generating and compiling them
 * with `new Function` on first use. Otherwise it does what protobufjs's Type#setup does, in the
 * same order; `verify` (which the client never calls) is generated on its first call.
 */
export function usePrecompiledCodecs(ns: protobuf.NamespaceBase, codecs: PrecompiledCodecs): void {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) {
      const codec = codecs[o.fullName.slice(1)];
      if (codec) o.setup = precompiledSetup(codec);
    }
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) usePrecompiledCodecs(o, codecs);
  }
}

function precompiledSetup(codec: PrecompiledCodec): (this: protobuf.Type) => protobuf.Type {
  return function setup(this: protobuf.Type) {
    const root = this.root as unknown as TypeInternals | null;
    if (root?._needsRecursiveFeatureResolution) {
      const edition = root._edition ?? (this as unknown as TypeInternals)._edition;
      if (edition) root._resolveFeaturesRecursive(edition);
    }
    const types = this.fieldsArray.map((f) => f.resolve().resolvedType);
    // Assigning ctor is what the ctor getter does with protobufjs's generated constructor.
    if (!(this as unknown as TypeInternals)._ctor)
      this.ctor = codec.ctor() as unknown as protobuf.Constructor<object>;
    const util = protobuf.util;
    this.encode = codec.encode(protobuf.Writer, types, util) as typeof this.encode;
    this.decode = codec.decode(protobuf.Reader, types, util, this.ctor) as typeof this.decode;
    this.fromObject = codec.fromObject(types, util, this.ctor) as typeof this.fromObject;
    this.toObject = codec.toObject(types, util) as typeof this.toObject;
    this.verify = (message) => {
      this.verify = (protobuf as unknown as Verifier).verifier(this)({ types, util });
      return this.verify(message);
    };
    return this;
  };
}
