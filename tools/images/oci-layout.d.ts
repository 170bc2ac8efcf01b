/** A content-addressed blob as it is referenced from OCI manifests and indexes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: {
    architecture: string;
    os: string;
  };
}
export declare const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export declare const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export declare const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export declare const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export declare function sha256Hex(data: Buffer): string;
/** Write `data` under blobs/sha256/ of an OCI layout directory and describe it. */
export declare function writeBlob(layoutDir: string, mediaType: string, data: Buffer): Promise<Descriptor>;
/** Go's GOARCH names, which is what image configs and platform selectors use. */
export declare function goArch(nodeArch?: string): string;
export interface ImageConfigInput {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}
/**
 * Lay out one single-layer image (layer tar given as bytes) as an OCI image layout directory:
 * oci-layout, index.json and the blobs. `name` goes into both the containerd name annotation and
 * the OCI ref-name annotation, so `ctr images import` registers the image under exactly that name.
 */
export declare function writeImageLayout(
  layoutDir: string,
  name: string,
  layerTar: Buffer,
  config: ImageConfigInput,
): Promise<{
  manifestDigest: string;
  configDigest: string;
}>;
export declare function readJson<T>(path: string): Promise<T>;
//# sourceMappingURL=oci-layout.d.ts.map
