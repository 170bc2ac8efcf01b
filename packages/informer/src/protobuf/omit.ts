import { InvalidOptionError } from '@nodeagent/primitives';

/**
 * The fields a decode may leave out, by their JSON path from the object's root (a list's items
 * and a watch event's object alike). Leaving one out gives exactly what decoding it and then
 * `delete`-ing it would, without building it: a skipped length-delimited field costs one length
 * read. kube-proxy reads neither an endpoint's `targetRef` nor `managedFields`. A watch's
 * BOOKMARK object is left whole (its annotations end a watch-list's initial state).
 */
export const OMITTABLE_PATHS = [
  'metadata.managedFields',
  'metadata.annotations',
  'metadata.ownerReferences',
  'endpoints.targetRef',
  'endpoints.deprecatedTopology',
  'endpoints.hints',
  'status',
] as const;

/** One of OMITTABLE_PATHS: a field a protobuf decode may leave out. */
export type OmittablePath = (typeof OMITTABLE_PATHS)[number];

/** The omissions as flags, read once per field by the decoders (no lookups on the hot path). */
export interface DecodeFlags {
  managedFields: boolean;
  annotations: boolean;
  ownerReferences: boolean;
  targetRef: boolean;
  deprecatedTopology: boolean;
  hints: boolean;
  status: boolean;
}

/** Nothing left out. */
export const DECODE_ALL: DecodeFlags = decodeFlags([]);

/** Checks the paths and turns them into flags; an unknown path is an InvalidOptionError naming it. */
export function decodeFlags(omit: readonly string[]): DecodeFlags {
  for (const path of omit) {
    if (!(OMITTABLE_PATHS as readonly string[]).includes(path))
      throw new InvalidOptionError('protobuf.omit', path, `is not one of ${OMITTABLE_PATHS.join(', ')}`);
  }
  const has = (p: OmittablePath) => omit.includes(p);
  return {
    managedFields: has('metadata.managedFields'),
    annotations: has('metadata.annotations'),
    ownerReferences: has('metadata.ownerReferences'),
    targetRef: has('endpoints.targetRef'),
    deprecatedTopology: has('endpoints.deprecatedTopology'),
    hints: has('endpoints.hints'),
    status: has('status'),
  };
}
