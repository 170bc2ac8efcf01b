/**
 * How a translation builds its result. Results are shaped as the API server would serve
 * upstream's object: the fields Go's JSON leaves out when empty (omitempty: fsType "", readOnly
 * false, an empty volumeAttributes map, a secret reference's empty name) are left out here too.
 */
import type { CsiSecretReference } from '../csi-secrets';
import type {
  InTreePersistentVolume,
  InTreePersistentVolumeSources,
  TranslatedCsiSource,
  TranslatedPersistentVolume,
} from './in-tree-sources';

/** The fields of a CSI source as upstream's translators set them (Go's zero values allowed). */
export interface CsiSourceFields {
  driver: string;
  volumeHandle: string;
  readOnly?: boolean | null;
  fsType?: string | null;
  volumeAttributes?: Record<string, string>;
  nodeStageSecretRef?: CsiSecretReference;
  nodePublishSecretRef?: CsiSecretReference;
  nodeExpandSecretRef?: CsiSecretReference;
  controllerPublishSecretRef?: CsiSecretReference;
  controllerExpandSecretRef?: CsiSecretReference;
}

const SECRET_REFS = [
  'nodeStageSecretRef',
  'nodePublishSecretRef',
  'nodeExpandSecretRef',
  'controllerPublishSecretRef',
  'controllerExpandSecretRef',
] as const;

function secretReference(ref: CsiSecretReference): CsiSecretReference {
  return { ...(ref.name ? { name: ref.name } : {}), ...(ref.namespace ? { namespace: ref.namespace } : {}) };
}

/** The CSI source without the fields Go's JSON would omit. */
export function csiSource(fields: CsiSourceFields): TranslatedCsiSource {
  const source: TranslatedCsiSource = { driver: fields.driver, volumeHandle: fields.volumeHandle };
  if (fields.readOnly) source.readOnly = true;
  if (fields.fsType) source.fsType = fields.fsType;
  if (fields.volumeAttributes && Object.keys(fields.volumeAttributes).length > 0) {
    source.volumeAttributes = { ...fields.volumeAttributes };
  }
  for (const key of SECRET_REFS) {
    const ref = fields[key];
    if (ref) source[key] = secretReference(ref);
  }
  return source;
}

/** A deep copy of the PV, so the translation never changes its input (upstream's DeepCopy). */
export function copyOfPersistentVolume(pv: InTreePersistentVolume): InTreePersistentVolume {
  return structuredClone(pv);
}

/** The copy with its in-tree source `field` dropped and `csi` set in its place. */
export function withCsiSource(
  copy: InTreePersistentVolume,
  field: keyof InTreePersistentVolumeSources,
  csi: TranslatedCsiSource,
): TranslatedPersistentVolume {
  const spec = copy.spec ?? {};
  delete spec[field];
  spec.csi = csi;
  copy.spec = spec;
  return copy;
}

/** The PV upstream makes for an inline volume: a name, the CSI source and access modes. */
export function inlinePersistentVolume(
  name: string,
  csi: TranslatedCsiSource,
  accessModes: string[],
  volumeMode?: string,
): TranslatedPersistentVolume {
  return {
    metadata: name ? { name } : {},
    spec: { csi, accessModes, ...(volumeMode ? { volumeMode } : {}) },
  };
}
